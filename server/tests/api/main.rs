//! Integration tests: the whole `factory` app against a real PostgreSQL, a fresh database
//! per test, with workers running in-process.

mod cli;
mod faults;
mod helpers;
mod metrics;
mod pages;
mod pools;
mod reliability;
mod runs;
mod tenancy;
