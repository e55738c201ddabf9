//! Handler implementations, one file per event: `src/handlers/<domain>/<action>.rs`.
//!
//! Each file implements one generated trait (`claudebench_generated::handlers::<Event>`) for
//! [`Handlers`]; a spec event without one fails the build with a message naming the file to
//! create (`cargo run -p claudebench-codegen -- scaffold` writes one whose body stops the build
//! until it is written).

/// The request context every handler receives (identity, event, shared services).
pub type Ctx = claudebench_domain::Ctx;

/// The one type that implements every event's handler trait.
#[derive(Debug, Clone, Copy, Default)]
pub struct Handlers;

// A missing handler fails here, with the event's own message, even before `serve` uses it.
const _: () = {
    fn every_event_has_a_handler<H: claudebench_generated::handlers::Handlers<Ctx>>() {}
    let _ = every_event_has_a_handler::<Handlers>;
};
mod hook;
mod lease;
mod system;
mod task;
mod test;

/// Handlers are thin: read the input, call the domain's typed services, map the answer. Redis,
/// key names, the runtime's shared services and raw coordination calls stay behind the domain,
/// so a storage change never reaches a handler.
#[cfg(test)]
mod layering {
    const FORBIDDEN: [&str; 8] = [
        "redis::",
        "query_async",
        ".runtime",
        "keys.",
        ".coord.",
        "ctx.redis",
        "ConnectionManager",
        "claudebench_runtime::redis",
    ];

    fn sources(dir: &std::path::Path, out: &mut Vec<(std::path::PathBuf, String)>) {
        for entry in std::fs::read_dir(dir).expect("src/handlers is readable").flatten() {
            let path = entry.path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("a handler file is UTF-8");
                out.push((path, text));
            }
        }
    }

    #[test]
    fn handlers_use_the_domains_typed_services_only() {
        let mut files = Vec::new();
        sources(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/handlers"), &mut files);
        assert!(files.len() > 20, "the handler files were found");
        let mut offences = Vec::new();
        for (path, text) in &files {
            // This module names the forbidden words itself.
            let code = text.split("#[cfg(test)]\nmod layering").next().unwrap_or(text);
            for (n, line) in code.lines().enumerate() {
                for word in FORBIDDEN.iter().filter(|w| line.contains(*w)) {
                    offences.push(format!("{}:{}: `{word}` in `{}`", path.display(), n + 1, line.trim()));
                }
            }
        }
        assert!(offences.is_empty(), "handlers reaching past the domain:\n{}", offences.join("\n"));
    }
}
