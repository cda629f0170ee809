//! `/login`: a plain HTML form posted to the server's `POST /login`, so it works before
//! (and without) hydration. The server answers with a redirect, never with this page's data.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let failed = move || query.with(|q| q.get_str("error") == Some("invalid"));
    let next = move || query.with(|q| q.get("next")).filter(|next| next.starts_with('/'));

    view! {
        <Title text="Log in" />
        <main class="login">
            <form method="post" action="/login" class="card login-form" data-test="login-form">
                <h1>"Factory"</h1>
                <p class="muted">"Log in to watch and submit your generation runs."</p>
                <Show when=failed>
                    <p class="error" role="alert" data-test="login-error">
                        "Email or password is incorrect."
                    </p>
                </Show>
                <label for="email">"Email"</label>
                <input
                    id="email"
                    name="email"
                    type="email"
                    autocomplete="username"
                    required
                    autofocus
                    data-test="login-email"
                />
                <label for="password">"Password"</label>
                <input
                    id="password"
                    name="password"
                    type="password"
                    autocomplete="current-password"
                    required
                    data-test="login-password"
                />
                {move || {
                    next().map(|next| view! { <input type="hidden" name="next" value=next /> })
                }}
                <button type="submit" class="button primary" data-test="login-submit">
                    "Log in"
                </button>
                <p class="hint">
                    "Demo: use one of the accounts seeded for your environment (see the README)."
                </p>
            </form>
        </main>
    }
}
