//! The rooflaw static site: Yew compiled to WebAssembly, everything computed in the browser.
//!
//! `main` renders the app into `#app` when the page asks for it (`<body data-rooflaw-app>`); pages that
//! only want numbers load the same module and call the JavaScript API in [`api`].

mod api;
mod app;
mod components;
mod inputs;
mod lab;
mod law_state;
mod measured;
mod pages;
mod plot;
mod state;

fn install_panic_hook() {
    // A panic must never pass silently: log it and leave it where tests (and users) can see it.
    std::panic::set_hook(Box::new(|info| {
        let msg = info.to_string();
        web_sys::console::error_1(&msg.clone().into());
        if let Some(w) = web_sys::window() {
            let _ = js_sys::Reflect::set(&w, &"rooflawPanic".into(), &msg.into());
        }
    }));
}

fn main() {
    install_panic_hook();
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return };
    let wants_app = doc.body().is_some_and(|b| b.has_attribute("data-rooflaw-app"));
    if let (true, Some(root)) = (wants_app, doc.get_element_by_id("app")) {
        yew::Renderer::<app::App>::with_root(root).render();
    }
}
