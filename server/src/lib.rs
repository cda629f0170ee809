//! The `factory` server: configuration, storage, queues, step handlers, the JSON API and
//! the web app's services. `main.rs` only parses the command line and calls in here.

// Leptos view types of the larger pages nest deeper than the default limit.
#![recursion_limit = "256"]

pub mod api;
pub mod auth;
pub mod charts;
pub mod config;
pub mod embedded_pg;
pub mod events;
pub mod executor;
pub mod lifecycle;
pub mod metrics;
pub mod periodic;
pub mod pools;
pub mod queue;
pub mod reliability;
pub mod runtypes;
pub mod service;
pub mod startup;
pub mod steps;
pub mod storage;
pub mod web;
