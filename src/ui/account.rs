//! Getting back in and looking after one's account: "forgot password"
//! (`/forgot`), the reset link's page (`/reset/:token`) and the settings
//! page (`/settings`: a new password, logging out everywhere). Each form
//! is a plain form post before the wasm loads and an action after.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    components::{Redirect, A},
    hooks::{use_params_map, use_query_map},
};

use super::{
    auth::{use_current_user, AuthActions},
    form::{error_text, Message},
};
use crate::{
    i18n::{t, t_string, use_i18n},
    model::error::AppError,
};

/// Asks for a reset link. Answers the same whether or not the address has
/// an account; the page then says where the link went.
#[server(prefix = "/api/fn", endpoint = "forgot_password", client = crate::ui::fetch::PageClient)]
pub async fn forgot_password(email: String) -> Result<(), AppError> {
    let result = async {
        let state = crate::ui::server::state()?;
        let ip = crate::ui::server::request_ip(&state);
        state.service.request_reset(&email, ip).await?;
        Ok(state.service.mailer.configured())
    }
    .await;
    let to = match result {
        Ok(true) => "/forgot?sent=mail",
        _ => "/forgot?sent=log",
    };
    crate::ui::server::answer(result, to).await.map(|_| ())
}

/// A new password, given the current one; every other session ends.
#[server(prefix = "/api/fn", endpoint = "change_password", client = crate::ui::fetch::PageClient)]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    crate::ui::server::change_password(current_password, new_password).await
}

#[component]
pub fn ForgotPage() -> impl IntoView {
    let i18n = use_i18n();
    let action = ServerAction::<ForgotPassword>::new();
    let message = error_text(move || action.value().get());
    let query = use_query_map();
    // Where the link went: from the answer with the wasm, from the
    // address after a plain form post.
    let sent = move || match action.value().get() {
        Some(Ok(())) => Some(query.read().get("sent").unwrap_or_else(|| "mail".into())),
        Some(Err(_)) => None,
        None => query.read().get("sent"),
    };
    view! {
        <Title text=format!("{} · Giftlist", t_string!(i18n, forgot_title)) />
        <section class="auth">
            <h1>{t!(i18n, forgot_title)}</h1>
            <p>{t!(i18n, forgot_lead)}</p>
            <ActionForm action=action attr:data-testid="forgot-form">
                <label for="forgot-email">{t!(i18n, email)}</label>
                <input id="forgot-email" name="email" type="email" autocomplete="email" required />
                <button type="submit" disabled=move || action.pending().get()>{t!(i18n, forgot_send)}</button>
            </ActionForm>
            <Message message />
            <p role="status" aria-live="polite" data-testid="forgot-sent">
                {move || sent().map(|how| {
                    let mut text = t_string!(i18n, forgot_sent).to_string();
                    if how == "log" {
                        text = format!("{text} {}", t_string!(i18n, mail_not_configured));
                    }
                    text
                })}
            </p>
            <p><A href="/login">{t!(i18n, log_in)}</A></p>
        </section>
    }
}

#[component]
pub fn ResetPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let action = expect_context::<AuthActions>().reset;
    let message = error_text(move || action.value().get());
    view! {
        <Title text=format!("{} · Giftlist", t_string!(i18n, reset_title)) />
        <section class="auth">
            <h1>{t!(i18n, reset_title)}</h1>
            <ActionForm action=action attr:data-testid="reset-form">
                <input type="hidden" name="token" value=token />
                <label for="reset-password">{t!(i18n, password_min)}</label>
                <input id="reset-password" name="password" type="password" autocomplete="new-password" required minlength="8" />
                <button type="submit" disabled=move || action.pending().get()>{t!(i18n, reset_save)}</button>
            </ActionForm>
            <Message message />
            <p><A href="/forgot">{t!(i18n, reset_ask_again)}</A></p>
        </section>
    }
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let i18n = use_i18n();
    let user = use_current_user();
    let change = ServerAction::<ChangePassword>::new();
    let everywhere = expect_context::<AuthActions>().everywhere;
    let rename = expect_context::<AuthActions>().rename;
    let rename_message = error_text(move || rename.value().get());
    let delete = expect_context::<AuthActions>().delete;
    let delete_message = error_text(move || delete.value().get());
    let change_message = error_text(move || change.value().get());
    let query = use_query_map();
    let changed = move || {
        matches!(change.value().get(), Some(Ok(())))
            || (change.value().get().is_none() && query.read().get("changed").is_some())
    };
    view! {
        <Title text=format!("{} · Giftlist", t_string!(i18n, settings)) />
        <Transition fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(user)) => view! {
                        <h1>{t!(i18n, settings)}</h1>
                        <p class="muted">{user.email}</p>
                        <section aria-labelledby="name-title">
                            <h2 id="name-title">{t!(i18n, your_name)}</h2>
                            <ActionForm action=rename attr:class="stacked-form" attr:data-testid="rename-me">
                                <label for="my-name">{t!(i18n, display_name)}</label>
                                <input id="my-name" name="name" required maxlength="100" autocomplete="name" value=user.name />
                                <button type="submit">{t!(i18n, save)}</button>
                            </ActionForm>
                            <Message message=rename_message />
                        </section>
                        <section aria-labelledby="password-title">
                            <h2 id="password-title">{t!(i18n, change_password)}</h2>
                            <ActionForm action=change attr:class="stacked-form" attr:data-testid="change-password">
                                <label for="current-password">{t!(i18n, current_password)}</label>
                                <input id="current-password" name="current_password" type="password" autocomplete="current-password" required />
                                <label for="new-password">{t!(i18n, password_min)}</label>
                                <input id="new-password" name="new_password" type="password" autocomplete="new-password" required minlength="8" />
                                <button type="submit">{t!(i18n, change_password)}</button>
                            </ActionForm>
                            <Message message=change_message />
                            <p role="status" data-testid="password-changed">{move || changed().then(|| t_string!(i18n, password_changed))}</p>
                        </section>
                        <section aria-labelledby="sessions-title">
                            <h2 id="sessions-title">{t!(i18n, sessions)}</h2>
                            <p>{t!(i18n, logout_everywhere_lead)}</p>
                            <ActionForm action=everywhere>
                                <button type="submit">{t!(i18n, logout_everywhere)}</button>
                            </ActionForm>
                        </section>
                        <section aria-labelledby="delete-title">
                            <h2 id="delete-title">{t!(i18n, delete_account)}</h2>
                            <details class="reveal" data-testid="delete-account">
                                <summary>{t!(i18n, delete_account)}</summary>
                                <p>{t!(i18n, delete_account_lead)}</p>
                                <ul class="muted">
                                    <li>{t!(i18n, delete_account_claims)}</li>
                                    <li>{t!(i18n, delete_account_lists)}</li>
                                    <li>{t!(i18n, delete_account_admin)}</li>
                                </ul>
                                <ActionForm action=delete attr:class="stacked-form">
                                    <label for="delete-password">{t!(i18n, password)}</label>
                                    <input id="delete-password" name="password" type="password" autocomplete="current-password" required />
                                    <label class="check">
                                        <input type="checkbox" name="delete_my_lists" value="on" />
                                        " "{t!(i18n, delete_my_lists)}
                                    </label>
                                    <button type="submit" class="danger">{t!(i18n, delete_account_confirm)}</button>
                                </ActionForm>
                                <Message message=delete_message testid="delete-account-error" />
                            </details>
                        </section>
                    }.into_any(),
                    _ => view! { <Redirect path="/login" /> }.into_any(),
                }
            })}
        </Transition>
    }
}
