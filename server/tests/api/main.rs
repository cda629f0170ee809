//! Integration tests: the whole `factory` app against a real PostgreSQL, a fresh database
//! per test, with workers running in-process.

mod cli;
mod helpers;
mod pages;
mod reliability;
mod runs;
mod tenancy;
