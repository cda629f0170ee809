//! One module per page. Each page loads its own data through the server functions and
//! shows loading and error states itself.

pub mod exclusions;
pub mod login;
pub mod new_run;
pub mod not_found;
pub mod overview;
pub mod pools;
pub mod reliability;
pub mod run_detail;
pub mod runs;
pub mod sla;
pub mod sla_report;

pub use exclusions::ExclusionsPage;
pub use login::LoginPage;
pub use new_run::NewRunPage;
pub use not_found::NotFoundPage;
pub use overview::OverviewPage;
pub use pools::PoolsPage;
pub use reliability::ReliabilityPage;
pub use run_detail::RunDetailPage;
pub use runs::RunsPage;
pub use sla::SlaPage;
pub use sla_report::SlaReportPage;
