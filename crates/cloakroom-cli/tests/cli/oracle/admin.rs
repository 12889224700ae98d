//! The oracle's own Admin API access: the library's raw calls on a private runtime, so that
//! reading a realm costs one HTTP request per object rather than one process per request.

use cloakroom::request::encode_segment;
use serde_json::Value;

use crate::support::Server;

pub struct Admin {
    kc: cloakroom::Client,
    rt: tokio::runtime::Runtime,
}

/// What a failed call answered: the status (0 when there was no answer) and the message.
#[derive(Debug)]
pub struct Failure {
    pub status: u16,
    pub message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.message)
    }
}

fn failure(e: cloakroom::Error) -> Failure {
    let status = e.status().unwrap_or(0);
    let message = match &e {
        cloakroom::Error::Api(api) => api
            .message()
            .map(str::to_owned)
            .unwrap_or_else(|| api.body_text.clone()),
        other => other.to_string(),
    };
    Failure { status, message }
}

/// One path segment, percent-encoded.
pub fn seg(s: &str) -> String {
    encode_segment(s)
}

impl Admin {
    pub fn connect(server: &Server) -> Admin {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let kc = {
            let _g = rt.enter();
            cloakroom::Client::builder(server.url.clone())
                .credentials(cloakroom::Credentials::password(
                    server.admin_user.clone(),
                    server.admin_password.clone(),
                ))
                .build()
                .expect("admin client")
        };
        Admin { kc, rt }
    }

    /// `GET /admin/realms{path}`.
    pub fn get(&self, path: &str) -> Result<Value, Failure> {
        let call = self.kc.raw().get(format!("/admin/realms{path}"));
        self.rt.block_on(call.send_json()).map_err(failure)
    }

    /// `POST /admin/realms{path}` with a JSON body.
    pub fn post(&self, path: &str, body: &Value) -> Result<(), Failure> {
        let call = self
            .kc
            .raw()
            .post(format!("/admin/realms{path}"))
            .json(body);
        self.rt.block_on(call.send()).map(drop).map_err(failure)
    }

    /// `DELETE /admin/realms{path}`, errors ignored (cleanup).
    pub fn delete(&self, path: &str) {
        let call = self.kc.raw().delete(format!("/admin/realms{path}"));
        let _ = self.rt.block_on(call.send());
    }

    /// The password grant of `username` in `realm` through the built-in public `admin-cli`
    /// client: "ok", or the error Keycloak answered.
    pub fn password_login(&self, realm: &str, username: &str, password: &str) -> String {
        let form = vec![
            ("grant_type".to_owned(), "password".to_owned()),
            ("client_id".to_owned(), "admin-cli".to_owned()),
            ("username".to_owned(), username.to_owned()),
            ("password".to_owned(), password.to_owned()),
        ];
        let call = self
            .kc
            .raw()
            .post(format!(
                "/realms/{}/protocol/openid-connect/token",
                seg(realm)
            ))
            .form(form);
        match self.rt.block_on(call.send()) {
            Ok(_) => "ok".to_owned(),
            Err(e) => {
                let f = failure(e);
                format!("refused ({}: {})", f.status, f.message)
            }
        }
    }
}
