//! The command line: every command, option and environment variable, as clap derives it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  other error (validation error from Keycloak, health check DOWN, differences with --exit-code)
  2  usage error (bad arguments, unreadable or malformed file, bad configuration)
  3  authentication or authorization failure (bad credentials, expired session, 401, 403)
  4  not found (404: missing realm, user, client, ...)
  5  conflict (409: the object exists already, or changed concurrently)
  6  server or transport error (5xx, connection refused, timeout, TLS)
  130 interrupted (Ctrl-C or SIGTERM during an export; no partial file is left)

Environment:
  Every option can also be set with CLOAKROOM_<OPTION> (for example CLOAKROOM_SERVER,
  CLOAKROOM_REALM, CLOAKROOM_USER). Secrets are never options: they come from a prompt (on a
  terminal), CLOAKROOM_PASSWORD / KC_CLI_PASSWORD, CLOAKROOM_CLIENT_SECRET / KC_CLI_CLIENT_SECRET,
  CLOAKROOM_OTP, --password-file, --client-secret-file or --password-stdin.
  KEYCLOAK_URL and KEYCLOAK_USER are read when CLOAKROOM_SERVER / CLOAKROOM_USER are unset.
  CLOAKROOM_CONFIG_DIR replaces the configuration directory (profiles and token cache).";

/// cloakroom: drive Keycloak from the shell.
#[derive(Parser, Debug)]
#[command(
    name = "cloakroom",
    version,
    about = "cloakroom: drive Keycloak from the shell (Admin API, tokens, realm export/apply, health)",
    propagate_version = true,
    after_long_help = EXIT_CODES_HELP,
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// How the CLI authenticates when it needs a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GrantKind {
    /// Resource-owner password grant (user + password, optional OTP).
    Password,
    /// Client credentials grant of a confidential client with a service account.
    ClientCredentials,
    /// Device authorization grant: shows a URL and a code to approve in any browser.
    Device,
    /// Authorization code + PKCE: opens the browser, receives the code on a loopback port
    /// (the client needs `http://127.0.0.1/*` as a redirect URI).
    AuthCode,
}

impl GrantKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GrantKind::Password => "password",
            GrantKind::ClientCredentials => "client-credentials",
            GrantKind::Device => "device",
            GrantKind::AuthCode => "auth-code",
        }
    }
}

/// Output formats for data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Json,
    Yaml,
    Table,
    Csv,
}

/// The value of `-o/--output`: a format, or (for `realm export` only) a file name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutputArg {
    Format(OutputFormat),
    File(PathBuf),
}

impl OutputArg {
    fn parse(s: &str) -> Result<Self, std::convert::Infallible> {
        Ok(match OutputFormat::from_str(s, true) {
            Ok(f) => OutputArg::Format(f),
            Err(_) => OutputArg::File(PathBuf::from(s)),
        })
    }

    /// The format, or a usage error naming the formats.
    pub fn format(&self) -> Result<OutputFormat, String> {
        match self {
            OutputArg::Format(f) => Ok(*f),
            OutputArg::File(p) => Err(format!(
                "`{}` is not an output format (json, yaml, table, csv)",
                p.display()
            )),
        }
    }
}

#[derive(Args, Debug, Clone, Default)]
pub struct GlobalArgs {
    /// Profile to use (see `cloakroom config`).
    #[arg(long, global = true, env = "CLOAKROOM_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,
    /// Keycloak server URL, e.g. https://sso.example.com (also KEYCLOAK_URL).
    #[arg(long, global = true, env = "CLOAKROOM_SERVER", value_name = "URL")]
    pub server: Option<String>,
    /// Target realm: the realm being administered (defaults to the auth realm).
    #[arg(long, global = true, env = "CLOAKROOM_REALM", value_name = "REALM")]
    pub realm: Option<String>,
    /// Realm to obtain tokens from (default `master`).
    #[arg(
        long,
        global = true,
        env = "CLOAKROOM_AUTH_REALM",
        value_name = "REALM"
    )]
    pub auth_realm: Option<String>,
    /// Client to log in through (default `admin-cli`).
    #[arg(
        long,
        global = true,
        env = "CLOAKROOM_CLIENT_ID",
        value_name = "CLIENT_ID"
    )]
    pub client_id: Option<String>,
    /// User name for the password grant (also KEYCLOAK_USER).
    #[arg(
        long,
        short = 'u',
        global = true,
        env = "CLOAKROOM_USER",
        value_name = "USER"
    )]
    pub user: Option<String>,
    /// Grant to use (default: password when a user is set, else client-credentials).
    #[arg(long, global = true, env = "CLOAKROOM_GRANT", value_enum)]
    pub grant: Option<GrantKind>,
    /// Read the password from this file (first line).
    #[arg(
        long,
        global = true,
        env = "CLOAKROOM_PASSWORD_FILE",
        value_name = "FILE"
    )]
    pub password_file: Option<PathBuf>,
    /// Read the password from standard input.
    #[arg(long, global = true)]
    pub password_stdin: bool,
    /// Read the client secret from this file (first line).
    #[arg(
        long,
        global = true,
        env = "CLOAKROOM_CLIENT_SECRET_FILE",
        value_name = "FILE"
    )]
    pub client_secret_file: Option<PathBuf>,
    /// Read the client secret from standard input.
    #[arg(long, global = true)]
    pub client_secret_stdin: bool,
    /// Ask for a one-time password (or read CLOAKROOM_OTP) for the password grant.
    #[arg(long, global = true)]
    pub otp: bool,
    /// Output format: json, yaml, table or csv (default: table on a terminal, JSON
    /// otherwise). For `realm export`, `-o FILE` names the file to write.
    #[arg(
        long,
        short = 'o',
        global = true,
        env = "CLOAKROOM_OUTPUT",
        value_name = "FORMAT",
        value_parser = OutputArg::parse
    )]
    pub output: Option<OutputArg>,
    /// Print only data and errors.
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
    /// Log what happens to stderr (-v debug, -vv trace).
    #[arg(long, short = 'v', global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// No colours (also when NO_COLOR is set or output is not a terminal).
    #[arg(long, global = true)]
    pub no_color: bool,
    /// Neither read nor write the token cache.
    #[arg(long, global = true, env = "CLOAKROOM_NO_TOKEN_CACHE")]
    pub no_cache: bool,
    /// Do not verify TLS certificates (dangerous; local test servers only).
    #[arg(long, global = true, env = "CLOAKROOM_INSECURE")]
    pub insecure: bool,
    /// Extra CA certificate bundle (PEM) to trust.
    #[arg(long, global = true, env = "CLOAKROOM_CA_CERT", value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// Timeout for one HTTP request, in seconds (default 60).
    #[arg(long, global = true, env = "CLOAKROOM_TIMEOUT", value_name = "SECONDS")]
    pub timeout: Option<u64>,
    /// Extra HTTP header on every request, NAME:VALUE (repeatable), e.g. for an access proxy.
    /// Values are treated as secrets. CF_ACCESS_CLIENT_ID and CF_ACCESS_CLIENT_SECRET add
    /// Cloudflare Access's service-token headers.
    #[arg(long = "header", global = true, value_name = "NAME:VALUE")]
    pub header: Vec<String>,
    /// Management interface URL for health and metrics (default: server host, port 9000).
    #[arg(
        long,
        global = true,
        env = "CLOAKROOM_MANAGEMENT_URL",
        value_name = "URL"
    )]
    pub management_url: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Manage profiles (server, realms, client, user) in the configuration directory.
    #[command(subcommand)]
    Config(ConfigCmd),
    /// Obtain an access token (cached per profile) and print it.
    #[command(visible_alias = "login")]
    Token(TokenArgs),
    /// Call any Admin REST endpoint with the configured auth, retries and errors.
    Api(ApiArgs),
    /// Check the management interface: live, ready or started.
    Health(HealthArgs),
    /// Read the server's Prometheus metrics as a summary, or raw.
    Metrics(MetricsArgs),
    /// List resources, or show one by id or name.
    Get(GetArgs),
    /// Create a resource from a file or -s key=value pairs.
    Create(CreateArgs),
    /// Update a resource safely: GET, merge the changes, PUT.
    Update(UpdateArgs),
    /// Delete a resource by id or name.
    Delete(DeleteArgs),
    /// Export, apply and compare whole realms.
    #[command(subcommand)]
    Realm(RealmCmd),
    /// Versions of cloakroom and the server, the server's enabled features, and which
    /// cloakroom capabilities that server version supports.
    Version,
    /// Check that cloakroom can work with the server: log in as configured, then print the
    /// server's version and enabled features and which cloakroom capabilities this server
    /// supports (yes/no). Exits 0 when the server answered, 6 when it cannot be reached, 3
    /// when the login is refused.
    Doctor,
    /// A local Keycloak for development, without Docker.
    #[command(subcommand)]
    Dev(DevCmd),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
    /// Print the man page (roff), or write one page per command into a directory.
    Manpage(ManpageArgs),
}

#[derive(Subcommand, Debug)]
pub enum ConfigCmd {
    /// Set a profile value: server, realm, auth-realm, client-id, user, grant, management-url,
    /// password-file, client-secret-file, ca-cert, insecure. Creates the profile if needed.
    Set { key: String, value: String },
    /// Print a profile value.
    Get { key: String },
    /// List profiles (the current one is marked).
    List,
    /// Make a profile the default.
    Use { name: String },
    /// Delete a profile and its cached tokens.
    Delete { name: String },
    /// Print the configuration directory.
    Path,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TokenFormat {
    /// The access token alone.
    Raw,
    /// The token set with its claims, decoded locally (not verified).
    Json,
    /// An `Authorization: Bearer …` header line.
    Header,
}

#[derive(Args, Debug)]
pub struct TokenArgs {
    /// How to print the token.
    #[arg(long, value_enum, default_value = "raw")]
    pub format: TokenFormat,
    /// Ignore the cached token and log in again.
    #[arg(long)]
    pub fresh: bool,
}

#[derive(Args, Debug)]
pub struct ApiArgs {
    /// HTTP method: GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS.
    pub method: String,
    /// Path: absolute (`/admin/realms`) or relative to `/admin/` (`realms/{realm}/users`);
    /// `{realm}` is replaced by the target realm.
    pub path: String,
    /// Request body: JSON text, `@FILE`, or `-` for standard input.
    #[arg(long, short = 'd')]
    pub data: Option<String>,
    /// Query parameter NAME=VALUE (repeatable).
    #[arg(long = "query", short = 'Q', value_name = "NAME=VALUE")]
    pub query: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Probe {
    Live,
    Ready,
    Started,
}

#[derive(Args, Debug)]
pub struct HealthArgs {
    /// Which probe (default: all checks).
    #[arg(value_enum)]
    pub probe: Option<Probe>,
}

#[derive(Args, Debug)]
pub struct MetricsArgs {
    /// Print the Prometheus text as the server sent it.
    #[arg(long)]
    pub raw: bool,
}

/// Resource kinds the CRUD commands know.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ResourceKind {
    #[value(alias = "user")]
    Users,
    #[value(alias = "client")]
    Clients,
    #[value(alias = "group")]
    Groups,
    #[value(alias = "role")]
    Roles,
    #[value(alias = "client-scope", alias = "clientscopes", alias = "clientscope")]
    ClientScopes,
    #[value(
        alias = "identity-provider",
        alias = "idp",
        alias = "idps",
        alias = "identityproviders"
    )]
    IdentityProviders,
    #[value(alias = "realm")]
    Realms,
}

#[derive(Args, Debug)]
pub struct GetArgs {
    pub kind: ResourceKind,
    /// Id or natural name (username, clientId, group path or name, role name, alias, realm).
    pub name: Option<String>,
    /// Search text (Keycloak's `search` parameter).
    #[arg(long)]
    pub search: Option<String>,
    /// Extra query parameter NAME=VALUE passed to the list call (repeatable).
    #[arg(long = "query", short = 'Q', value_name = "NAME=VALUE")]
    pub query: Vec<String>,
    /// Only these fields (comma-separated, dotted paths allowed), in this order.
    #[arg(long, value_delimiter = ',')]
    pub fields: Vec<String>,
    /// Stop after this many items (default: all pages).
    #[arg(long)]
    pub limit: Option<usize>,
    /// For roles: the clientId whose client roles to use.
    #[arg(long)]
    pub client: Option<String>,
}

#[derive(Args, Debug)]
pub struct CreateArgs {
    pub kind: ResourceKind,
    /// JSON or YAML file with the representation (`-` for standard input).
    #[arg(long, short = 'f')]
    pub file: Option<String>,
    /// Field to set, KEY=VALUE (VALUE parsed as JSON when it is valid JSON; dotted keys nest).
    #[arg(long = "set", short = 's', value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// For roles: the clientId to create a client role in.
    #[arg(long)]
    pub client: Option<String>,
    /// Succeed (exit 0) when the object exists already.
    #[arg(long)]
    pub if_not_exists: bool,
}

#[derive(Args, Debug)]
pub struct UpdateArgs {
    pub kind: ResourceKind,
    /// Id or natural name.
    pub name: String,
    /// JSON or YAML merge patch (RFC 7386) file (`-` for standard input).
    #[arg(long, short = 'f')]
    pub file: Option<String>,
    /// Field to set, KEY=VALUE (VALUE parsed as JSON when it is valid JSON; dotted keys nest).
    #[arg(long = "set", short = 's', value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// For roles: the clientId whose role to update.
    #[arg(long)]
    pub client: Option<String>,
}

#[derive(Args, Debug)]
pub struct DeleteArgs {
    pub kind: ResourceKind,
    /// Id or natural name.
    pub name: String,
    /// For roles: the clientId whose role to delete.
    #[arg(long)]
    pub client: Option<String>,
    /// Succeed (exit 0) when the object does not exist.
    #[arg(long)]
    pub if_exists: bool,
}

#[derive(Subcommand, Debug)]
pub enum RealmCmd {
    /// Export a realm with ALL its users, groups, roles, clients, IdPs and flows.
    Export(ExportArgs),
    /// Create or update a realm from a file (JSON or YAML), idempotently.
    Apply(ApplyArgs),
    /// Compare two realms: files, or a file and a live realm (`live:NAME`).
    Diff(DiffArgs),
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// The realm to export.
    pub name: String,
    /// Write to this file (written to a temporary file, then renamed). Default: stdout.
    /// `-o FILE` works too (the global `-o` takes a file name here).
    #[arg(long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Include client secrets (confidential clients). Secrets are left out otherwise.
    #[arg(long)]
    pub include_secrets: bool,
    /// Users fetched per page (1 to 1,000). Keycloak's cost per request is mostly fixed, so
    /// large pages are cheaper for it.
    #[arg(long, default_value_t = 500)]
    pub page_size: usize,
    /// Requests in flight at once: member lists of groups and roles, and user pages fetched
    /// ahead (in order) while they are read.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Leave users out.
    #[arg(long)]
    pub no_users: bool,
}

#[derive(Args, Debug, Default)]
pub struct ApplyArgs {
    /// The realm file (JSON or YAML), e.g. from `realm export` or Keycloak's own export. Several
    /// files, or directories of `*.json`/`*.yaml`/`*.yml` files (read in name order), are
    /// merged into one document: lists concatenated, objects merged, later values win.
    #[arg(required = true, num_args = 1..)]
    pub file: Vec<PathBuf>,
    /// Put the environment variable or the file's text in place of `${env:NAME}` and
    /// `${file:PATH}` in string values (PATH relative to the document's directory; `$${` is a
    /// literal `${`). The values are masked in everything apply prints.
    #[arg(long)]
    pub substitute: bool,
    /// Print what would change, change nothing.
    #[arg(long)]
    pub plan: bool,
    /// Go on after a failed change (default: stop at the first).
    #[arg(long)]
    pub continue_on_error: bool,
    /// Users created or changed at once (each change is sent exactly once; 1 = one at a time).
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallel: u16,
    /// Apply into this realm instead of the one named in the file.
    #[arg(long = "into", value_name = "REALM")]
    pub into: Option<String>,
    /// Succeed even when parts of the document cannot be applied (they are listed as
    /// `not applied` either way).
    #[arg(long)]
    pub allow_unsupported: bool,
    /// Also set the passwords the document states for users that already exist (by default a
    /// password is set only when the user is created, so password history is not tripped).
    #[arg(long)]
    pub reset_passwords: bool,
    /// Make the realm's `attributes` exactly the document's: attributes it does not name are
    /// removed (those Keycloak keeps for its own settings excepted). Default: merged key by key.
    #[arg(long)]
    pub exact_attributes: bool,
    /// Delete live objects of these kinds that the document does not name (comma-separated:
    /// users, groups, clients, clientScopes, roles, identityProviders, organizations). Built-in
    /// objects are never deleted.
    #[arg(long, value_delimiter = ',', value_name = "KINDS")]
    pub prune: Vec<String>,
    /// Refuse to delete more than this many objects (nothing is changed then).
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub max_deletes: usize,
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// First realm: a file, or `live:REALM`.
    pub a: String,
    /// Second realm: a file, or `live:REALM`.
    pub b: String,
    /// Exit with 1 when there are differences.
    #[arg(long)]
    pub exit_code: bool,
    /// Ignore fields present on one side only (values a server fills in by default).
    #[arg(long)]
    pub ignore_defaults: bool,
    /// Compare only what the first document names: objects and fields only in the second (such
    /// as everything a partial file leaves out of a live realm) are not differences.
    #[arg(long)]
    pub declared_only: bool,
}

#[derive(Subcommand, Debug)]
pub enum DevCmd {
    /// Download (via mvn) and start a local Keycloak in the user's data directory.
    Up(DevUpArgs),
    /// Stop the local Keycloak.
    Down,
    /// Show whether the local Keycloak runs, and where.
    Status,
    /// Seed a realm, a client and a user, and print how to connect.
    Init(DevInitArgs),
}

#[derive(Args, Debug)]
pub struct DevUpArgs {
    /// Keycloak version.
    #[arg(long, default_value = "26.7.3")]
    pub kc_version: String,
    /// HTTP port.
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Management port.
    #[arg(long, default_value_t = 9000)]
    pub management_port: u16,
    /// Seconds to wait for readiness.
    #[arg(long, default_value_t = 180)]
    pub wait: u64,
}

#[derive(Args, Debug)]
pub struct DevInitArgs {
    /// Realm to create.
    #[arg(long, default_value = "dev")]
    pub new_realm: String,
    /// Client to create (public, with direct access grants and a localhost redirect).
    #[arg(long, default_value = "dev-app")]
    pub new_client: String,
    /// User to create.
    #[arg(long, default_value = "dev-user")]
    pub new_user: String,
    /// A realm file (JSON/YAML) to apply instead of the flags.
    #[arg(long, short = 'f')]
    pub file: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, elvish or powershell.
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
pub struct ManpageArgs {
    /// Write cloakroom.1 and one page per subcommand into this directory.
    #[arg(long)]
    pub dir: Option<PathBuf>,
}
