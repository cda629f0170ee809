//! The `factory` server: configuration, storage, queues, step handlers, the JSON API and
//! the web app's services. `main.rs` only parses the command line and calls in here.
pub mod runtypes;
pub mod steps;
