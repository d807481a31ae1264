//! Misbehaviours no healthy bot shows but a network or a broken deploy can:
//! every consumer must survive them.

use clap::ValueEnum;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Fault {
    /// Accept, read the request, never answer.
    Hang,
    /// Answer 200 with an endless body (64 MiB announced).
    HugeBody,
    /// Announce 4096 bytes, send a few, close.
    Truncated,
    /// Answer 302 to the same path, forever.
    RedirectLoop,
    /// Answer 200 with an HTML page.
    NotJson,
    /// Answer 200 with JSON of the wrong shape (`status` a number, `checks` an array).
    WrongShape,
    /// Close the connection without a response (the bot does this when building one fails).
    EmptyReply,
}
