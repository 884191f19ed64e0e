//! Getting back in and looking after one's account: "forgot password"
//! (`/forgot`), the reset link's page (`/reset/:token`), the confirmation
//! link's page (`/confirm-email/:token`) and the settings page
//! (`/settings`: name, address, password, logging out everywhere,
//! deleting the account). Each form is a plain form post before the wasm
//! loads and an action after.

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
    i18n::{tu_string, use_i18n},
    model::{error::AppError, MailChoices},
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

/// Asks to change the address (the password given): a link goes to the
/// new one, which confirms it.
#[server(prefix = "/api/fn", endpoint = "change_email", client = crate::ui::fetch::PageClient)]
pub async fn change_email(email: String, password: String) -> Result<(), AppError> {
    let result = crate::ui::server::act(|service, actor| async move {
        let input = crate::model::input::ChangeEmail { email, password };
        service.request_email_change(&actor, input).await
    })
    .await;
    crate::ui::server::answer(result, "/settings?email=sent").await
}

/// Mails the account's own address its confirmation link again.
#[server(prefix = "/api/fn", endpoint = "send_confirmation", client = crate::ui::fetch::PageClient)]
pub async fn send_confirmation() -> Result<(), AppError> {
    let result = crate::ui::server::act(|service, actor| async move {
        service.request_verification(&actor).await
    })
    .await;
    crate::ui::server::answer(result, "/settings?email=confirm-sent").await
}

/// Uses a confirmation link (from its page's button: a link in a mail
/// may be opened by scanners, so opening it changes nothing).
#[server(prefix = "/api/fn", endpoint = "confirm_email", client = crate::ui::fetch::PageClient)]
pub async fn confirm_email(token: String) -> Result<(), AppError> {
    let result = async {
        crate::ui::server::state()?
            .service
            .confirm_email(&token)
            .await
            .map(|_| ())
    }
    .await;
    crate::ui::server::answer(result, "/settings?email=confirmed").await
}

/// Turns each kind of mail on or off (checkboxes, present when ticked).
#[server(prefix = "/api/fn", endpoint = "set_mails", client = crate::ui::fetch::PageClient)]
pub async fn set_mails(reminders: Option<String>, notices: Option<String>) -> Result<(), AppError> {
    let result = crate::ui::server::act(|service, actor| async move {
        let patch = crate::model::input::MailChoicesPatch {
            reminders: Some(reminders.is_some()),
            notices: Some(notices.is_some()),
        };
        service.set_mail_choices(&actor, patch).await.map(|_| ())
    })
    .await;
    crate::ui::server::answer(result, "/settings").await
}

/// Which mails the logged-in account gets.
#[server(prefix = "/api/fn", endpoint = "my_mails", client = crate::ui::fetch::PageClient)]
pub async fn my_mails() -> Result<MailChoices, AppError> {
    let user = crate::ui::server::user_id().await?;
    crate::ui::server::state()?
        .service
        .mail_choices(&user)
        .await
}

/// Reminder mails and notice digests, each on or off.
#[component]
fn MailsSection() -> impl IntoView {
    let i18n = use_i18n();
    let choose = ServerAction::<SetMails>::new();
    let choices = Resource::new(move || choose.version().get(), |_| my_mails());
    let message = error_text(move || choose.value().get());
    view! {
        <section aria-labelledby="mails-title">
            <h2 id="mails-title">{tu_string!(i18n, mails_title)}</h2>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let on = choices.await.unwrap_or(MailChoices { reminders: true, notices: true });
                    view! {
                        <ActionForm action=choose attr:class="stacked-form" attr:data-testid="mails">
                            <label class="check">
                                <input type="checkbox" name="reminders" checked=on.reminders />
                                {tu_string!(i18n, reminders_label)}
                            </label>
                            <label class="check">
                                <input type="checkbox" name="notices" checked=on.notices />
                                {tu_string!(i18n, notice_mails_label)}
                            </label>
                            <button type="submit" class="small">{tu_string!(i18n, save)}</button>
                        </ActionForm>
                    }
                })}
            </Transition>
            <Message message testid="mails-error" />
        </section>
    }
}

/// Whether the logged-in account's address is confirmed.
#[server(prefix = "/api/fn", endpoint = "email_confirmed", client = crate::ui::fetch::PageClient)]
pub async fn email_confirmed() -> Result<bool, AppError> {
    let user = crate::ui::server::user_id().await?;
    crate::ui::server::state()?
        .service
        .email_confirmed(&user)
        .await
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
        <Title text=format!("{} · Giftlist", tu_string!(i18n, forgot_title)) />
        <section class="auth">
            <h1>{tu_string!(i18n, forgot_title)}</h1>
            <p>{tu_string!(i18n, forgot_lead)}</p>
            <ActionForm action=action attr:data-testid="forgot-form">
                <label for="forgot-email">{tu_string!(i18n, email)}</label>
                <input id="forgot-email" name="email" type="email" autocomplete="email" required />
                <button type="submit" disabled=move || action.pending().get()>{tu_string!(i18n, forgot_send)}</button>
            </ActionForm>
            <Message message />
            <p role="status" aria-live="polite" data-testid="forgot-sent">
                {move || sent().map(|how| {
                    let mut text = tu_string!(i18n, forgot_sent).to_string();
                    if how == "log" {
                        text = format!("{text} {}", tu_string!(i18n, mail_not_configured));
                    }
                    text
                })}
            </p>
            <p><A href="/login">{tu_string!(i18n, log_in)}</A></p>
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
        <Title text=format!("{} · Giftlist", tu_string!(i18n, reset_title)) />
        <section class="auth">
            <h1>{tu_string!(i18n, reset_title)}</h1>
            <ActionForm action=action attr:data-testid="reset-form">
                <input type="hidden" name="token" value=token />
                <label for="reset-password">{tu_string!(i18n, password_min)}</label>
                <input id="reset-password" name="password" type="password" autocomplete="new-password" required minlength="8" />
                <button type="submit" disabled=move || action.pending().get()>{tu_string!(i18n, reset_save)}</button>
            </ActionForm>
            <Message message />
            <p><A href="/forgot">{tu_string!(i18n, reset_ask_again)}</A></p>
        </section>
    }
}

/// `/confirm-email/:token`: a button that confirms the address.
#[component]
pub fn ConfirmEmailPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let action = ServerAction::<ConfirmEmail>::new();
    let message = error_text(move || action.value().get());
    view! {
        <Title text=format!("{} · Giftlist", tu_string!(i18n, confirm_title)) />
        <section class="auth">
            <h1>{tu_string!(i18n, confirm_title)}</h1>
            <p>{tu_string!(i18n, confirm_lead)}</p>
            <ActionForm action=action attr:data-testid="confirm-form">
                <input type="hidden" name="token" value=token />
                <button type="submit" disabled=move || action.pending().get()>{tu_string!(i18n, confirm_button)}</button>
            </ActionForm>
            <Message message />
        </section>
    }
}

/// The address, whether it is confirmed, and changing it.
#[component]
fn EmailSection(email: String) -> impl IntoView {
    let i18n = use_i18n();
    let email = StoredValue::new(email);
    let change = ServerAction::<ChangeEmail>::new();
    let resend = ServerAction::<SendConfirmation>::new();
    let confirmed = Resource::new(move || resend.version().get(), |_| email_confirmed());
    let change_message = error_text(move || change.value().get());
    let resend_message = error_text(move || resend.value().get());
    let query = use_query_map();
    // What was just done: from the action with the wasm, from the address
    // after a plain form post.
    let done = move || {
        if matches!(change.value().get(), Some(Ok(()))) {
            return Some(tu_string!(i18n, email_link_sent));
        }
        if matches!(resend.value().get(), Some(Ok(()))) {
            return Some(tu_string!(i18n, confirm_link_sent));
        }
        match query.read().get("email").as_deref() {
            Some("sent") => Some(tu_string!(i18n, email_link_sent)),
            Some("confirm-sent") => Some(tu_string!(i18n, confirm_link_sent)),
            Some("confirmed") => Some(tu_string!(i18n, email_now_confirmed)),
            _ => None,
        }
    };
    view! {
        <section aria-labelledby="email-title">
            <h2 id="email-title">{tu_string!(i18n, email_title)}</h2>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let confirmed = confirmed.await.unwrap_or(false);
                    view! {
                        <p data-testid="email-status">
                            <span data-testid="account-email">{email.get_value()}</span>" · "
                            <span class="muted">{if confirmed { tu_string!(i18n, email_confirmed_badge) } else { tu_string!(i18n, email_unconfirmed_badge) }}</span>
                        </p>
                        {(!confirmed).then(|| view! {
                            <ActionForm action=resend>
                                <button type="submit" data-testid="send-confirmation">{tu_string!(i18n, send_confirmation)}</button>
                            </ActionForm>
                        })}
                    }
                })}
            </Transition>
            <Message message=resend_message testid="send-confirmation-error" />
            <p role="status" aria-live="polite" data-testid="email-done">{done}</p>
            <details class="reveal" data-testid="change-email">
                <summary>{tu_string!(i18n, change_email)}</summary>
                <ActionForm action=change attr:class="stacked-form">
                    <label for="new-email">{tu_string!(i18n, new_email)}</label>
                    <input id="new-email" name="email" type="email" autocomplete="email" required maxlength="254" />
                    <label for="email-password">{tu_string!(i18n, password)}</label>
                    <input id="email-password" name="password" type="password" autocomplete="current-password" required />
                    <button type="submit">{tu_string!(i18n, send_change_link)}</button>
                </ActionForm>
                <Message message=change_message testid="change-email-error" />
            </details>
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
        <Title text=format!("{} · Giftlist", tu_string!(i18n, settings)) />
        <Transition fallback=move || view! { <p>{tu_string!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(user)) => view! {
                        <h1>{tu_string!(i18n, settings)}</h1>
                        <EmailSection email=user.email />
                        <section aria-labelledby="name-title">
                            <h2 id="name-title">{tu_string!(i18n, your_name)}</h2>
                            <ActionForm action=rename attr:class="stacked-form" attr:data-testid="rename-me">
                                <label for="my-name">{tu_string!(i18n, display_name)}</label>
                                <input id="my-name" name="name" required maxlength="100" autocomplete="name" value=user.name />
                                <button type="submit">{tu_string!(i18n, save)}</button>
                            </ActionForm>
                            <Message message=rename_message />
                        </section>
                        <section aria-labelledby="password-title">
                            <h2 id="password-title">{tu_string!(i18n, change_password)}</h2>
                            <ActionForm action=change attr:class="stacked-form" attr:data-testid="change-password">
                                <label for="current-password">{tu_string!(i18n, current_password)}</label>
                                <input id="current-password" name="current_password" type="password" autocomplete="current-password" required />
                                <label for="new-password">{tu_string!(i18n, password_min)}</label>
                                <input id="new-password" name="new_password" type="password" autocomplete="new-password" required minlength="8" />
                                <button type="submit">{tu_string!(i18n, change_password)}</button>
                            </ActionForm>
                            <Message message=change_message />
                            <p role="status" data-testid="password-changed">{move || changed().then(|| tu_string!(i18n, password_changed))}</p>
                        </section>
                        <MailsSection />
                        <section aria-labelledby="sessions-title">
                            <h2 id="sessions-title">{tu_string!(i18n, sessions)}</h2>
                            <p>{tu_string!(i18n, logout_everywhere_lead)}</p>
                            <ActionForm action=everywhere>
                                <button type="submit">{tu_string!(i18n, logout_everywhere)}</button>
                            </ActionForm>
                        </section>
                        <section aria-labelledby="delete-title">
                            <h2 id="delete-title">{tu_string!(i18n, delete_account)}</h2>
                            <details class="reveal" data-testid="delete-account">
                                <summary>{tu_string!(i18n, delete_account)}</summary>
                                <p>{tu_string!(i18n, delete_account_lead)}</p>
                                <ul class="muted">
                                    <li>{tu_string!(i18n, delete_account_claims)}</li>
                                    <li>{tu_string!(i18n, delete_account_lists)}</li>
                                    <li>{tu_string!(i18n, delete_account_admin)}</li>
                                </ul>
                                <ActionForm action=delete attr:class="stacked-form">
                                    <label for="delete-password">{tu_string!(i18n, password)}</label>
                                    <input id="delete-password" name="password" type="password" autocomplete="current-password" required />
                                    <label class="check">
                                        <input type="checkbox" name="delete_my_lists" value="on" />
                                        " "{tu_string!(i18n, delete_my_lists)}
                                    </label>
                                    <button type="submit" class="danger">{tu_string!(i18n, delete_account_confirm)}</button>
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
