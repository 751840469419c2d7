//! The admin portal under `/admin`: server-rendered pages that work without
//! JavaScript, for the people who run the directory (PRODUCT.md §1 journeys 4
//! and 7, §2.2).
//!
//! The portal is a first-party OIDC client of its own issuer
//! (`http/first_party.rs`): it signs in through `/authorize`, so the sign-in
//! policy (MFA included) applies to admins, and its session is the grant it
//! redeemed; signing out revokes it and ends the SSO session. Every page goes
//! through the [`auth::Admin`] extractor, which checks on each request that
//! the grant is live and its user still an enabled admin: disabling an admin
//! locks them out of the portal at once. Every form carries a CSRF token
//! derived from the session cookie, checked in constant time.
//!
//! | Route                                   | Handler                         |
//! |-----------------------------------------|---------------------------------|
//! | GET `/admin/signin`, `/admin/callback`, POST `/admin/signout` | [`signin`]              |
//! | GET `/admin/users`                      | [`users::users_get`]            |
//! | GET/POST `/admin/invite`                | [`invite`]                      |
//! | GET `/admin/users/{id}` and its actions | [`user`], [`user_actions`]      |
//! | GET/POST `/admin/imports`               | [`imports`], [`upload`]         |
//! | `/admin/imports/{id}`, `start`, `results.csv` | [`report`], [`results`]   |
//! | GET/POST `/admin/groups`, GET/POST `/admin/groups/{id}`, GET/POST `…/{id}/delete` | [`groups`] (list, create, page, edit, confirm and delete) |
//! | POST `…/{id}/members`, `…/{id}/owners`, `…/{id}/{members,owners}/{user}/remove`, `…/{id}/join-requests/{rid}/{approve,decline}` | [`group_people`] |
//! | GET/POST `/admin/applications`, GET/POST `/admin/applications/{id}`, POST `…/{id}/reset-secret`, GET/POST `…/{id}/delete` | [`apps`] (list, register with the secret shown once, settings, new secret, confirm and delete) |
//! | POST `…/{id}/assignments`, `…/{id}/assignments/{a}/remove`, `…/{id}/owners`, `…/{id}/owners/{user}/remove` | [`app_access`] (Graph's `appRoleAssignedTo` and `owners`) |
//! | GET/POST `/admin/identity-providers`    | [`idps`] (list, add)            |
//! | GET/POST `/admin/identity-providers/{id}` | [`idps`] (page, edit, enable/disable) |
//! | POST `…/{id}/test`, POST `…/{id}/delete` | [`idps`] (connection trace, delete) |
//! | GET `/admin/audit`                      | [`audit::audit_get`]            |
//! | GET `/admin/signins`                    | [`sign_ins::sign_ins_get`]      |
//! | GET/POST `/admin/collaboration` (external collaboration settings) | [`collaboration`] |
//! | GET/POST `/admin/authentication`, POST `/admin/applications/{id}/require-mfa`, `…/require-pkce`, `…/assignment-required` | [`authentication`] |
//! | GET/POST `/admin/conditional-access`, POST `…/{id}/state`, `…/{id}/delete` | [`conditional_access`] |
//! | GET/POST `/admin/conditional-access/new`, `…/{id}/edit` | [`ca_editor`] |
//! | GET `/admin/conditional-access/what-if`, POST `…/what-if/replay` | [`what_if`] |

mod app_access;
mod apps;
mod audit;
mod auth;
mod authentication;
mod ca_editor;
mod collaboration;
mod conditional_access;
mod error;
mod group_people;
mod groups;
mod idp_form;
mod idps;
mod imports;
mod invite;
mod lookup;
mod parse;
mod report;
mod results;
mod sign_ins;
mod signin;
mod upload;
mod user;
mod user_actions;
mod users;
mod views;
mod what_if;

use super::UiState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::response::Redirect;
use axum::routing::{get, post};

pub fn routes() -> Router<UiState> {
    Router::new()
        .route("/admin", get(|| async { Redirect::to("/admin/users") }))
        .route("/admin/signin", get(signin::signin_get))
        .route("/admin/callback", get(signin::callback_get))
        .route("/admin/signout", post(signin::signout_post))
        .route("/admin/users", get(users::users_get))
        .route("/admin/users/{id}", get(user::user_get))
        .route("/admin/users/{id}/edit", post(user_actions::edit_post))
        .route(
            "/admin/users/{id}/disable",
            post(user_actions::disable_post),
        )
        .route("/admin/users/{id}/enable", post(user_actions::enable_post))
        .route(
            "/admin/users/{id}/delete",
            get(user_actions::delete_get).post(user_actions::delete_post),
        )
        .route("/admin/users/{id}/resend", post(user_actions::resend_post))
        .route("/admin/users/{id}/revoke", post(user_actions::revoke_post))
        .route("/admin/users/{id}/reset", post(user_actions::reset_post))
        .route(
            "/admin/users/{id}/require-mfa-reregistration",
            post(user_actions::require_mfa_reregistration_post),
        )
        .route("/admin/users/{id}/roles", post(user_actions::roles_post))
        .route(
            "/admin/users/{id}/verify-email",
            post(user_actions::verify_email_post),
        )
        .route(
            "/admin/invite",
            get(invite::invite_get).post(invite::invite_post),
        )
        // The upload enforces its own cap while streaming to disk (see
        // `upload`), so axum's 2 MB default body limit is lifted here only.
        .route(
            "/admin/imports",
            get(imports::imports_get)
                .post(upload::imports_post)
                .layer(DefaultBodyLimit::disable()),
        )
        .route("/admin/imports/{id}", get(report::import_get))
        .route("/admin/imports/{id}/start", post(report::start_post))
        .route("/admin/imports/{id}/results.csv", get(results::results_get))
        .route(
            "/admin/identity-providers",
            get(idps::idps_get).post(idps::idps_post),
        )
        .route(
            "/admin/identity-providers/{id}",
            get(idps::idp_get).post(idps::idp_post),
        )
        .route("/admin/identity-providers/{id}/test", post(idps::test_post))
        .route(
            "/admin/identity-providers/{id}/delete",
            post(idps::delete_post),
        )
        .route("/admin/audit", get(audit::audit_get))
        .route("/admin/signins", get(sign_ins::sign_ins_get))
        .route(
            "/admin/authentication",
            get(authentication::authentication_get).post(authentication::authentication_post),
        )
        .route(
            "/admin/collaboration",
            get(collaboration::collaboration_get).post(collaboration::collaboration_post),
        )
        .route(
            "/admin/groups",
            get(groups::groups_get).post(groups::groups_post),
        )
        .route(
            "/admin/groups/{id}",
            get(groups::group_get).post(groups::group_post),
        )
        .route(
            "/admin/groups/{id}/delete",
            get(groups::delete_get).post(groups::delete_post),
        )
        .route(
            "/admin/groups/{id}/join-requests/{rid}/{decision}",
            post(group_people::decide_post),
        )
        .route("/admin/groups/{id}/{which}", post(group_people::add_post))
        .route(
            "/admin/groups/{id}/{which}/{user}/remove",
            post(group_people::remove_post),
        )
        .route(
            "/admin/applications",
            get(apps::apps_get).post(apps::apps_post),
        )
        .route(
            "/admin/applications/{id}",
            get(apps::app_get).post(apps::app_post),
        )
        .route(
            "/admin/applications/{id}/reset-secret",
            post(apps::reset_secret_post),
        )
        .route(
            "/admin/applications/{id}/delete",
            get(apps::delete_get).post(apps::delete_post),
        )
        .route(
            "/admin/applications/{id}/assignments",
            post(app_access::assign_post),
        )
        .route(
            "/admin/applications/{id}/assignments/{assignment}/remove",
            post(app_access::unassign_post),
        )
        .route(
            "/admin/applications/{id}/owners",
            post(app_access::owner_add_post),
        )
        .route(
            "/admin/applications/{id}/owners/{user}/remove",
            post(app_access::owner_remove_post),
        )
        .route(
            "/admin/applications/{id}/require-mfa",
            post(authentication::require_mfa_post),
        )
        .route(
            "/admin/applications/{id}/require-pkce",
            post(authentication::require_pkce_post),
        )
        .route(
            "/admin/applications/{id}/assignment-required",
            post(authentication::assignment_required_post),
        )
        .route(
            "/admin/conditional-access",
            get(conditional_access::page_get).post(conditional_access::import_post),
        )
        .route(
            "/admin/conditional-access/what-if",
            get(what_if::what_if_get),
        )
        .route(
            "/admin/conditional-access/what-if/replay",
            post(what_if::replay_post),
        )
        .route(
            "/admin/conditional-access/new",
            get(ca_editor::new_get).post(ca_editor::new_post),
        )
        .route(
            "/admin/conditional-access/{id}/edit",
            get(ca_editor::edit_get).post(ca_editor::edit_post),
        )
        .route(
            "/admin/conditional-access/{id}/state",
            post(conditional_access::state_post),
        )
        .route(
            "/admin/conditional-access/{id}/delete",
            post(conditional_access::delete_post),
        )
        .layer(middleware::from_fn(error::render_failures))
}
