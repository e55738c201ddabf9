//! `hook.pre_tool`: Validates a tool call before Claude Code executes it. Dangerous shell commands (such as `rm -rf`, `sudo rm`, dropping or truncating databases, formatting disks) anywhere in a command — including after `&&`, `;` or `|` — are blocked, as are writes and edits to system directories (`/etc`, `/sys`, `/boot`, `/proc`, `/dev`, `C:\Windows`). Risky but legitimate operations (very large files, filesystem-wide `find`) are allowed with `warnings`. Some calls are rewritten, e.g. a leading `sudo` is removed; `modified` then holds the complete tool input to run instead of `params`. Every decision is audited. The bridge turns `allow: false` into a PreToolUse deny with `reason`. If the server cannot answer, the bridge blocks tools that change the system (Bash, Write, Edit, MultiEdit, NotebookEdit) and lets read-only tools through.
//!
//! Scaffolded by `claudebench-codegen scaffold`; replace the body with the real behaviour.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::HookPreTool;
use claudebench_generated::types::{HookPreToolInput, HookPreToolOutput};

use crate::handlers::{Ctx, Handlers};

impl HookPreTool<Ctx> for Handlers {
    async fn handle(&self, _ctx: &Ctx, _input: HookPreToolInput) -> Result<HookPreToolOutput, Error> {
        Err(Error::not_implemented("hook.pre_tool"))
    }
}
