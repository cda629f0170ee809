//! One module per page. Each page loads its own data through the server functions and
//! shows loading and error states itself.

pub mod login;
pub mod new_run;
pub mod not_found;
pub mod overview;
pub mod pools;
pub mod run_detail;
pub mod runs;

pub use login::LoginPage;
pub use new_run::NewRunPage;
pub use not_found::NotFoundPage;
pub use overview::OverviewPage;
pub use pools::PoolsPage;
pub use run_detail::RunDetailPage;
pub use runs::RunsPage;
