//! The frame around every logged-in page: navigation, who is looking, and logging out.
//! It loads the viewer once and shares it with the pages below it.

use leptos::prelude::*;
use leptos_router::components::{Outlet, A};

use crate::components::{Loading, ViewerResource};
use crate::model::{Role, Viewer};
use crate::server_fns::viewer;

#[component]
pub fn Layout() -> impl IntoView {
    let viewer = Resource::new(|| (), |_| viewer());
    provide_context(ViewerResource(viewer));

    view! {
        <header class="topbar">
            <a class="brand" href="/runs">
                "Factory"
            </a>
            <nav class="nav" data-test="nav">
                <A href="/runs" exact=true>
                    "Runs"
                </A>
                <A href="/overview">"Overview"</A>
                <A href="/reliability" attr:data-test="nav-reliability">
                    "Reliability"
                </A>
                <A href="/sla" attr:data-test="nav-sla">
                    "SLA reports"
                </A>
                // Runs are submitted by a tenant's people; staff keep the exclusion ledger;
                // only admins size pools.
                <Suspense>
                    {move || Suspend::new(async move {
                        let role = viewer.await.ok().map(|viewer| viewer.role);
                        match role {
                            Some(Role::Customer) => Some(view! { <A href="/runs/new">"New run"</A> }.into_any()),
                            Some(Role::AccountManager) => {
                                Some(view! { <ExclusionsLink /> }.into_any())
                            }
                            Some(Role::Admin) => {
                                Some(
                                    view! {
                                        <ExclusionsLink />
                                        <A href="/pools" attr:data-test="nav-pools">
                                            "Pools"
                                        </A>
                                    }
                                        .into_any(),
                                )
                            }
                            None => None,
                        }
                    })}
                </Suspense>
            </nav>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    viewer.await.ok().map(|viewer| view! { <Who viewer /> })
                })}
            </Suspense>
        </header>
        <main class="content">
            <Outlet />
        </main>
    }
}

#[component]
fn ExclusionsLink() -> impl IntoView {
    view! {
        <A href="/exclusions" attr:data-test="nav-exclusions">
            "Exclusions"
        </A>
    }
}

/// The viewer's name, role and tenant, and the logout button (a plain form, so it works
/// before the page is hydrated).
#[component]
fn Who(viewer: Viewer) -> impl IntoView {
    let tenant = viewer.tenant_slug.clone().unwrap_or_else(|| "all tenants".to_string());

    view! {
        <div class="who">
            <span class="who-name" data-test="viewer-name">
                {viewer.name.clone()}
            </span>
            <span class="who-role" data-test="viewer-role">
                {viewer.role.label()}
            </span>
            <span class="who-tenant" data-test="viewer-tenant">
                {tenant}
            </span>
            <form method="post" action="/logout" class="logout">
                <button type="submit" class="link-button" data-test="logout">
                    "Log out"
                </button>
            </form>
        </div>
    }
}
