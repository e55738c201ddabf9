//! Leader election against the real Redis.

use std::time::{Duration, Instant};

use claudebench_domain::coordination::leader::{LeaderElector, LeaderLease};

use crate::coordination_tasks::stream;
use crate::support::{redis, unique_keys};

#[tokio::test]
async fn one_candidate_holds_the_lease_and_release_hands_it_over_with_a_higher_term() {
    let keys = unique_keys();
    let lease = LeaderLease::new(keys.clone());
    let mut con = redis().await;
    let a = lease.acquire(&mut con, "a", 5_000).await.unwrap();
    assert!(a.leader);
    let b = lease.acquire(&mut con, "b", 5_000).await.unwrap();
    assert!(!b.leader);
    assert_eq!(b.holder, "a");
    assert_eq!(b.term, a.term);
    // Re-acquiring while holding extends without a new term.
    assert_eq!(lease.acquire(&mut con, "a", 5_000).await.unwrap().term, a.term);
    assert!(lease.renew(&mut con, "a", a.term, 5_000).await.unwrap());
    assert!(!lease.renew(&mut con, "b", a.term, 5_000).await.unwrap());
    assert!(lease.is_leader(&mut con, a.term).await.unwrap());

    assert!(!lease.release(&mut con, "b", a.term).await.unwrap());
    assert!(lease.release(&mut con, "a", a.term).await.unwrap());
    assert_eq!(lease.current(&mut con).await.unwrap(), None);
    let b = lease.acquire(&mut con, "b", 5_000).await.unwrap();
    assert!(b.leader);
    assert!(b.term > a.term);
    // Fencing: the old term is no longer valid, and the old leader cannot renew it.
    assert!(!lease.is_leader(&mut con, a.term).await.unwrap());
    assert!(!lease.renew(&mut con, "a", a.term, 5_000).await.unwrap());
    assert_eq!(stream(&mut con, &keys.stream("leader.elected")).await.len(), 2);
}

#[tokio::test]
async fn a_lapsed_lease_cannot_be_renewed_and_reacquiring_gets_a_new_term() {
    let lease = LeaderLease::new(unique_keys());
    let mut con = redis().await;
    let a = lease.acquire(&mut con, "a", 100).await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(!lease.renew(&mut con, "a", a.term, 100).await.unwrap());
    let again = lease.acquire(&mut con, "a", 100).await.unwrap();
    assert!(again.leader);
    assert!(again.term > a.term);
}

#[tokio::test]
async fn when_the_leader_stops_renewing_a_follower_takes_over_within_one_lease_with_a_higher_term() {
    let keys = unique_keys();
    let lease_ms = 600;
    let con = redis().await;
    let first = LeaderElector::spawn(LeaderLease::new(keys.clone()), con.clone(), "first", lease_ms);
    let mut first_watch = first.watch();
    tokio::time::timeout(Duration::from_secs(3), first_watch.wait_for(|t| t.is_some())).await.unwrap().unwrap();
    let first_term = first.current_term().unwrap();

    let second = LeaderElector::spawn(LeaderLease::new(keys.clone()), con.clone(), "second", lease_ms);
    let third = LeaderElector::spawn(LeaderLease::new(keys.clone()), con.clone(), "third", lease_ms);
    // Followers stay followers while the leader renews (over several leases).
    tokio::time::sleep(Duration::from_millis(lease_ms * 2)).await;
    assert_eq!(second.current_term(), None);
    assert_eq!(third.current_term(), None);
    assert_eq!(first.current_term(), Some(first_term));

    // The leader dies silently.
    let died = Instant::now();
    first.abandon().await;
    let mut w2 = second.watch();
    let mut w3 = third.watch();
    let new_term = tokio::time::timeout(Duration::from_millis(lease_ms * 3), async {
        tokio::select! {
            r = w2.wait_for(|t| t.is_some()) => r.unwrap().unwrap(),
            r = w3.wait_for(|t| t.is_some()) => r.unwrap().unwrap(),
        }
    })
    .await
    .expect("a follower takes over");
    let took = died.elapsed();
    assert!(took <= Duration::from_millis(lease_ms + 150), "takeover after {took:?}");
    assert!(new_term > first_term);
    tokio::time::sleep(Duration::from_millis(50)).await;
    // Exactly one leader.
    assert_eq!(usize::from(second.current_term().is_some()) + usize::from(third.current_term().is_some()), 1);

    // A clean shutdown hands over at once, again with a higher term.
    let (leader, follower) = if second.current_term().is_some() { (second, third) } else { (third, second) };
    leader.shutdown().await;
    let mut wf = follower.watch();
    let handed = tokio::time::timeout(Duration::from_millis(lease_ms), wf.wait_for(|t| t.is_some()))
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(handed > new_term);
    follower.shutdown().await;
}
