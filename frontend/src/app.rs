//! Routes and the URL state: the app holds (route, query), renders the page, and writes every change
//! back to the hash so the link always reproduces the view.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use yew::prelude::*;

use crate::pages::{
    arch::ArchPage, embed::EmbedPage, explorer::Explorer, lab::LabPage, law::LawPage, matching::MatchPage, theory::TheoryPage,
};
use crate::state::{current_hash, parse_hash, replace_hash, to_hash, Query, Route};

#[function_component(App)]
pub fn app() -> Html {
    let state = use_state(|| parse_hash(&current_hash()));
    // Follow navigation (links, back/forward, a pasted URL).
    {
        let state = state.clone();
        use_effect_with((), move |_| {
            let cb = Closure::<dyn FnMut()>::new(move || state.set(parse_hash(&current_hash())));
            let window = web_sys::window();
            if let Some(w) = &window {
                let _ = w.add_event_listener_with_callback("hashchange", cb.as_ref().unchecked_ref());
            }
            move || {
                if let Some(w) = window {
                    let _ = w.remove_event_listener_with_callback("hashchange", cb.as_ref().unchecked_ref());
                }
            }
        });
    }
    let (route, query) = (*state).clone();
    let on_query = {
        let state = state.clone();
        Callback::from(move |q: Query| {
            replace_hash(&to_hash(route, &q));
            state.set((route, q));
        })
    };
    let page = match route {
        Route::Explorer => html! { <Explorer query={query.clone()} on_query={on_query} /> },
        Route::Arch => html! { <ArchPage query={query.clone()} on_query={on_query} /> },
        Route::Law => html! { <LawPage query={query.clone()} on_query={on_query} /> },
        Route::Theory => html! { <TheoryPage query={query.clone()} on_query={on_query} /> },
        Route::Match => html! { <MatchPage query={query.clone()} on_query={on_query} /> },
        Route::Lab => html! { <LabPage query={query.clone()} on_query={on_query} /> },
        Route::Embed => html! { <EmbedPage query={query.clone()} on_query={on_query} /> },
    };
    if route == Route::Embed {
        return page;
    }
    html! {
        <>
        <header>
            <h1><a href="#/explorer">{ "rooflaw" }</a></h1>
            <nav>{ for Route::MENU.iter().map(|r| html! { <a href={format!("#/{}", r.path())} class={classes!((*r == route).then_some("active"))} id={format!("nav-{}", r.path())}>{ r.label() }</a> }) }</nav>
            <p class="tagline">{ "Which LLM gives the lowest loss within a latency and memory budget on your device? Everything is computed in your browser." }</p>
        </header>
        <main>{ page }</main>
        <footer>{ "Roofline latency is a bound, not a measurement; calibrated figures carry their fit error. Method: arXiv 2602.10377, extended (see the project README)." }</footer>
        </>
    }
}
