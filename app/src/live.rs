//! Live pages: subscribes to the server's `/events` stream in the browser and tells the page
//! to refetch when something changed, or ticks on a timer for numbers no event announces.
//! The server only says *what* changed; the data always comes from the same server functions
//! the first render used.

use std::time::Duration;

use leptos::prelude::*;

/// How long to gather bursts of events (a job finishing logs several lines) into one refetch.
#[cfg(feature = "hydrate")]
const DEBOUNCE: Duration = Duration::from_millis(250);

/// While the calling component lives, calls `on_change` after changes reported on the
/// stream at `url()` (re-subscribing when it changes; `None` subscribes to nothing).
/// A no-op during server rendering: the stream only exists in the browser.
pub fn use_server_events(
    url: impl Fn() -> Option<String> + 'static,
    on_change: impl Fn() + Clone + 'static,
) {
    #[cfg(feature = "hydrate")]
    browser::subscribe(url, on_change);

    #[cfg(not(feature = "hydrate"))]
    let _ = (url, on_change);
}

/// A count that goes up every `period` while the calling component lives and the page is
/// visible, for a resource to depend on when it should refetch on a timer (queue depths
/// change without an event). It stays 0 during server rendering and hydration, so both
/// render the same data.
pub fn use_ticks(period: Duration) -> ReadSignal<u64> {
    let ticks = RwSignal::new(0);

    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let tick = move || {
            // A hidden tab would only load the server; the next tick after it shows catches up.
            if !document().hidden() {
                ticks.try_update(|count| *count += 1);
            }
        };
        match set_interval_with_handle(tick, period) {
            Ok(handle) => on_cleanup(move || handle.clear()),
            Err(_) => leptos::logging::warn!("live numbers are off: no timer"),
        }
    });

    #[cfg(not(feature = "hydrate"))]
    let _ = period;
    ticks.read_only()
}

#[cfg(feature = "hydrate")]
mod browser {
    use std::cell::Cell;
    use std::rc::Rc;

    use leptos::prelude::*;
    use send_wrapper::SendWrapper;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    use web_sys::{Event, EventSource, MessageEvent};

    use super::DEBOUNCE;

    pub(super) fn subscribe(
        url: impl Fn() -> Option<String> + 'static,
        on_change: impl Fn() + Clone + 'static,
    ) {
        Effect::new(move |_| {
            let Some(url) = url() else { return };
            let Ok(source) = EventSource::new(&url) else {
                leptos::logging::warn!("live updates are off: cannot open {url}");
                return;
            };
            let stream = Stream::open(source, Debounced::new(on_change.clone()));
            let stream = SendWrapper::new(stream);
            on_cleanup(move || stream.take().close());
        });
    }

    /// Runs a callback once per quiet period, and never after being stopped.
    #[derive(Clone)]
    struct Debounced {
        callback: Rc<dyn Fn()>,
        pending: Rc<Cell<bool>>,
        stopped: Rc<Cell<bool>>,
    }

    impl Debounced {
        fn new(callback: impl Fn() + 'static) -> Self {
            Debounced {
                callback: Rc::new(callback),
                pending: Rc::default(),
                stopped: Rc::default(),
            }
        }

        fn trigger(&self) {
            if self.stopped.get() || self.pending.replace(true) {
                return;
            }
            let this = self.clone();
            set_timeout(
                move || {
                    this.pending.set(false);
                    if !this.stopped.get() {
                        (this.callback)();
                    }
                },
                DEBOUNCE,
            );
        }
    }

    /// An open `EventSource` with its handlers, which must live as long as it does.
    struct Stream {
        source: EventSource,
        debounced: Debounced,
        _on_message: Closure<dyn FnMut(MessageEvent)>,
        _on_open: Closure<dyn FnMut(Event)>,
    }

    impl Stream {
        fn open(source: EventSource, debounced: Debounced) -> Self {
            let on_message = {
                let debounced = debounced.clone();
                Closure::<dyn FnMut(MessageEvent)>::new(move |_| debounced.trigger())
            };

            // Whatever changed before the stream opened was never sent: after the page's
            // first fetch and before the first open (a fast run can finish in between),
            // and during a dropped connection. So refetch on every open, the first included.
            let on_open = {
                let debounced = debounced.clone();
                Closure::<dyn FnMut(Event)>::new(move |_| debounced.trigger())
            };

            source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
            Stream { source, debounced, _on_message: on_message, _on_open: on_open }
        }

        fn close(self) {
            self.debounced.stopped.set(true);
            self.source.set_onmessage(None);
            self.source.set_onopen(None);
            self.source.close();
        }
    }
}
