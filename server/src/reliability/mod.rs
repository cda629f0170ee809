//! Reliability: the prober, API timing, the rollup readers' maths (histograms), the pure SLA
//! maths (months, plans, uptime, credits, burn rates) and the monthly reports built from
//! them.

pub mod api_timing;
pub mod burn;
pub mod demo;
pub mod documents;
pub mod histogram;
pub mod month;
pub mod periodic;
pub mod report;
pub mod service;
pub mod sla;
pub mod units;
