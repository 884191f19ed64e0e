//! Registering, logging in and out: the pages and their server functions.
//!
//! The server functions are thin: they call the same `Service` as the JSON
//! API (through `ui::server`) and answer with its `AppError`. Each form is a
//! plain form post before the wasm loads and an action after.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use super::form::{error_text, Message};

use crate::{
    i18n::{tu_string, use_i18n},
    model::{error::AppError, User},
};

/// The logged-in user, if any.
#[server(prefix = "/api/fn", endpoint = "current_user", client = crate::ui::fetch::PageClient)]
pub async fn current_user() -> Result<Option<User>, AppError> {
    super::server::current_user().await
}

#[server(prefix = "/api/fn", endpoint = "register", client = crate::ui::fetch::PageClient)]
pub async fn register(email: String, name: String, password: String) -> Result<(), AppError> {
    super::server::register(email, name, password).await
}

#[server(prefix = "/api/fn", endpoint = "login", client = crate::ui::fetch::PageClient)]
pub async fn login(
    email: String,
    password: String,
    // Where to go once logged in: a page of this site that sent the person
    // here (`/login?next=...`); absent, the start page.
    next: Option<String>,
) -> Result<(), AppError> {
    super::server::login(email, password, next).await
}

#[server(prefix = "/api/fn", endpoint = "logout", client = crate::ui::fetch::PageClient)]
pub async fn logout() -> Result<(), AppError> {
    super::server::logout().await
}

/// Sets the new password with a reset link's token, and logs the browser
/// in (`ui::account` has the page).
#[server(prefix = "/api/fn", endpoint = "reset_password", client = crate::ui::fetch::PageClient)]
pub async fn reset_password(token: String, password: String) -> Result<(), AppError> {
    super::server::reset_password(token, password).await
}

/// Ends every session of the user, this one too.
#[server(prefix = "/api/fn", endpoint = "logout_everywhere", client = crate::ui::fetch::PageClient)]
pub async fn logout_everywhere() -> Result<(), AppError> {
    super::server::logout_everywhere().await
}

/// Deletes the account: `password`, and `delete_my_lists` ticked to
/// delete the lists for oneself too.
#[server(prefix = "/api/fn", endpoint = "delete_account", client = crate::ui::fetch::PageClient)]
pub async fn delete_account(
    password: String,
    delete_my_lists: Option<String>,
) -> Result<(), AppError> {
    super::server::delete_account(crate::model::input::DeleteAccount {
        password,
        delete_my_lists: delete_my_lists.is_some(),
    })
    .await
}

/// A new display name (`ui::account` has the form).
#[server(prefix = "/api/fn", endpoint = "rename_me", client = crate::ui::fetch::PageClient)]
pub async fn rename_me(name: String) -> Result<(), AppError> {
    let result =
        super::server::act(|service, actor| async move { service.rename_me(&actor, name).await })
            .await;
    super::server::answer(result, "/settings").await.map(|_| ())
}

/// The account actions, shared so the header can refresh when one of them
/// completes.
#[derive(Clone, Copy)]
pub struct AuthActions {
    pub register: ServerAction<Register>,
    pub login: ServerAction<Login>,
    pub logout: ServerAction<Logout>,
    /// A password reset, which logs the person in.
    pub reset: ServerAction<ResetPassword>,
    /// "Log out everywhere".
    pub everywhere: ServerAction<LogoutEverywhere>,
    /// A new display name.
    pub rename: ServerAction<RenameMe>,
    /// The account deleted.
    pub delete: ServerAction<DeleteAccount>,
}

impl AuthActions {
    pub fn provide() -> Self {
        let actions = AuthActions {
            register: ServerAction::new(),
            login: ServerAction::new(),
            logout: ServerAction::new(),
            reset: ServerAction::new(),
            everywhere: ServerAction::new(),
            rename: ServerAction::new(),
            delete: ServerAction::new(),
        };
        provide_context(actions);
        actions
    }

    /// Changes whenever one of the actions completes.
    pub fn version(&self) -> usize {
        self.register.version().get()
            + self.login.version().get()
            + self.logout.version().get()
            + self.reset.version().get()
            + self.everywhere.version().get()
            + self.rename.version().get()
            + self.delete.version().get()
    }
}

/// The user, reloaded after every login, registration and logout.
pub fn use_current_user() -> Resource<Result<Option<User>, AppError>> {
    let actions = expect_context::<AuthActions>();
    Resource::new(move || actions.version(), |_| current_user())
}

#[component]
pub fn RegisterPage() -> impl IntoView {
    let i18n = use_i18n();
    let action = expect_context::<AuthActions>().register;
    let message = error_text(move || action.value().get());
    view! {
        <Title text=format!("{} · Giftlist", tu_string!(i18n, create_an_account)) />
        <section class="auth">
            <h1>{tu_string!(i18n, create_an_account)}</h1>
            <ActionForm action=action>
                <label for="register-name">{tu_string!(i18n, your_name)}</label>
                <input id="register-name" name="name" autocomplete="name" required maxlength="100" />
                <label for="register-email">{tu_string!(i18n, email)}</label>
                <input id="register-email" name="email" type="email" autocomplete="email" required />
                <label for="register-password">{tu_string!(i18n, password_min)}</label>
                <input id="register-password" name="password" type="password" autocomplete="new-password" required minlength="8" />
                <button type="submit" disabled=move || action.pending().get()>{tu_string!(i18n, create_account)}</button>
            </ActionForm>
            <Message message />
            <p>{tu_string!(i18n, have_account)}" " <A href="/login">{tu_string!(i18n, log_in)}</A></p>
        </section>
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let i18n = use_i18n();
    let action = expect_context::<AuthActions>().login;
    let message = error_text(move || action.value().get());
    let next = leptos_router::hooks::use_query_map().with_untracked(|q| q.get("next"));
    view! {
        <Title text=format!("{} · Giftlist", tu_string!(i18n, log_in)) />
        <section class="auth">
            <h1>{tu_string!(i18n, log_in)}</h1>
            <ActionForm action=action>
                {next.map(|next| view! { <input type="hidden" name="next" value=next /> })}
                <label for="login-email">{tu_string!(i18n, email)}</label>
                <input id="login-email" name="email" type="email" autocomplete="email" required />
                <label for="login-password">{tu_string!(i18n, password)}</label>
                <input id="login-password" name="password" type="password" autocomplete="current-password" required />
                <button type="submit" disabled=move || action.pending().get()>{tu_string!(i18n, log_in)}</button>
            </ActionForm>
            <Message message />
            <p><A href="/forgot">{tu_string!(i18n, forgot_link)}</A></p>
            <p>{tu_string!(i18n, new_here)}" " <A href="/register">{tu_string!(i18n, create_an_account)}</A></p>
        </section>
    }
}

/// The account corner of the header: who is logged in and a way out, or
/// the ways in.
#[component]
pub fn AccountMenu() -> impl IntoView {
    let i18n = use_i18n();
    let user = use_current_user();
    let logout = expect_context::<AuthActions>().logout;
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(user)) => view! {
                        <span class="account-name" data-testid="account-name">{user.name}</span>
                        <A href="/settings">{tu_string!(i18n, settings)}</A>
                        <ActionForm action=logout>
                            <button type="submit" class="link-button">{tu_string!(i18n, log_out)}</button>
                        </ActionForm>
                    }.into_any(),
                    _ => view! {
                        <A href="/login">{tu_string!(i18n, log_in)}</A>
                        <A href="/register">{tu_string!(i18n, create_an_account)}</A>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}
