//! A throw-away OpenLDAP server (Debian's `slapd`) for the live user-federation tests.
//!
//! [`Slapd::start`] writes a fresh `cn=config` and an mdb database seeded with [`SEED_USERS`] and
//! [`SEED_GROUPS`] into a new folder (with `slapadd`, offline), starts `slapd` in the foreground
//! on a free loopback port, and waits until a simple bind as the directory's administrator
//! succeeds. [`Slapd::stop`] (also run on drop) ends that process after checking that its pid
//! is still the `slapd` it started on that folder, then removes the folder. `slapd` stays in
//! the caller's process group, so a Ctrl-C in the terminal ends it too.
//!
//! Nothing is installed here: when `slapd` is missing the error names the `apt-get` command.
//! Standalone on purpose (std and anyhow only), so it can move next to the Keycloak launcher.

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};

/// The suffix of the seeded directory.
pub const BASE_DN: &str = "dc=cloakroom,dc=test";
/// Where the seeded users live.
pub const USERS_DN: &str = "ou=people,dc=cloakroom,dc=test";
/// Where the seeded groups live.
pub const GROUPS_DN: &str = "ou=groups,dc=cloakroom,dc=test";
/// The password of every seeded user.
pub const USER_PASSWORD: &str = "ldap-user-pw-7Qm";
/// `(uid, given name, surname)` of the seeded users.
pub const SEED_USERS: &[(&str, &str, &str)] = &[
    ("alice", "Alice", "Archer"),
    ("bob", "Bob", "Baker"),
    ("carol", "Carol", "Cook"),
];
/// `(cn, member uids)` of the seeded groups.
pub const SEED_GROUPS: &[(&str, &[&str])] = &[("admins", &["alice", "bob"]), ("devs", &["carol"])];

const INSTALL: &str = "apt-get install -y slapd ldap-utils";
const SCHEMAS: &[&str] = &["core", "cosine", "inetorgperson", "nis"];
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// A running `slapd` owned by this process.
pub struct Slapd {
    /// `ldap://127.0.0.1:<port>`.
    pub url: String,
    pub port: u16,
    /// The administrator (the database's root DN) and its password, random per run.
    pub bind_dn: String,
    pub bind_password: String,
    dir: PathBuf,
    child: Option<Child>,
}

/// The path of a program from the `slapd` or `ldap-utils` package, or the command to install it.
fn tool(name: &str) -> Result<PathBuf> {
    for dir in ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"] {
        let p = Path::new(dir).join(name);
        if p.is_file() {
            return Ok(p);
        }
    }
    let sudo = if is_root() { "" } else { "sudo " };
    bail!(
        "`{name}` is not installed; the LDAP tests need Debian's OpenLDAP server and tools:\n  \
         {sudo}env DEBIAN_FRONTEND=noninteractive {INSTALL}"
    )
}

fn is_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").context("finding a free loopback port")?;
    Ok(l.local_addr()?.port())
}

/// A random hex string from the kernel's generator (no dependency needed).
fn random_hex(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .context("reading /dev/urandom")?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

fn config_ldif(dir: &Path, bind_dn: &str, password: &str) -> String {
    let d = dir.display();
    let mut out = format!(
        "dn: cn=config\nobjectClass: olcGlobal\ncn: config\n\
         olcPidFile: {d}/slapd.pid\nolcArgsFile: {d}/slapd.args\n\n\
         dn: cn=module{{0}},cn=config\nobjectClass: olcModuleList\ncn: module{{0}}\n\
         olcModulePath: /usr/lib/ldap\nolcModuleLoad: back_mdb\n\n\
         dn: cn=schema,cn=config\nobjectClass: olcSchemaConfig\ncn: schema\n\n"
    );
    for s in SCHEMAS {
        out.push_str(&format!("include: file:///etc/ldap/schema/{s}.ldif\n\n"));
    }
    out.push_str(&format!(
        "dn: olcDatabase={{0}}config,cn=config\nobjectClass: olcDatabaseConfig\n\
         olcDatabase: {{0}}config\nolcAccess: {{0}}to * by * none\n\n\
         dn: olcDatabase={{1}}mdb,cn=config\nobjectClass: olcDatabaseConfig\nobjectClass: olcMdbConfig\n\
         olcDatabase: {{1}}mdb\nolcSuffix: {BASE_DN}\nolcDbDirectory: {d}/db\n\
         olcRootDN: {bind_dn}\nolcRootPW: {password}\nolcDbMaxSize: 67108864\n\
         olcAccess: {{0}}to attrs=userPassword by self write by anonymous auth by * none\n\
         olcAccess: {{1}}to * by users read by * none\n\n"
    ));
    out
}

/// The seed: the base entry, two organisational units, the users and the groups.
pub fn seed_ldif() -> String {
    let mut out = format!(
        "dn: {BASE_DN}\nobjectClass: dcObject\nobjectClass: organization\ndc: cloakroom\no: cloakroom\n\n\
         dn: {USERS_DN}\nobjectClass: organizationalUnit\nou: people\n\n\
         dn: {GROUPS_DN}\nobjectClass: organizationalUnit\nou: groups\n\n"
    );
    for (uid, given, sn) in SEED_USERS {
        out.push_str(&user_ldif(uid, given, sn));
    }
    for (cn, members) in SEED_GROUPS {
        out.push_str(&format!(
            "dn: cn={cn},{GROUPS_DN}\nobjectClass: groupOfNames\ncn: {cn}\n"
        ));
        for m in *members {
            out.push_str(&format!("member: uid={m},{USERS_DN}\n"));
        }
        out.push('\n');
    }
    out
}

/// One `inetOrgPerson` under [`USERS_DN`] with [`USER_PASSWORD`].
pub fn user_ldif(uid: &str, given: &str, sn: &str) -> String {
    format!(
        "dn: uid={uid},{USERS_DN}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {given} {sn}\n\
         givenName: {given}\nsn: {sn}\nmail: {uid}@cloakroom.test\nuserPassword: {USER_PASSWORD}\n\n"
    )
}

fn run_tool(cmd: &mut Command, what: &str) -> Result<()> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {what}"))?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

impl Slapd {
    /// Creates a fresh directory under `parent` and starts `slapd` on it.
    pub fn start(parent: &Path) -> Result<Slapd> {
        let slapd = tool("slapd")?;
        let slapadd = tool("slapadd")?;
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos();
        let dir = parent.join(format!("slapd-{}-{nanos:x}", std::process::id()));
        let config_dir = dir.join("slapd.d");
        fs::create_dir_all(dir.join("db"))
            .with_context(|| format!("creating {}", dir.display()))?;
        fs::create_dir_all(&config_dir)?;
        let bind_dn = format!("cn=admin,{BASE_DN}");
        let bind_password = random_hex(12)?;
        fs::write(
            dir.join("config.ldif"),
            config_ldif(&dir, &bind_dn, &bind_password),
        )?;
        fs::write(dir.join("seed.ldif"), seed_ldif())?;
        run_tool(
            Command::new(&slapadd)
                .args(["-n", "0", "-F"])
                .arg(&config_dir)
                .arg("-l")
                .arg(dir.join("config.ldif")),
            "slapadd (cn=config)",
        )?;
        run_tool(
            Command::new(&slapadd)
                .args(["-n", "1", "-F"])
                .arg(&config_dir)
                .arg("-l")
                .arg(dir.join("seed.ldif")),
            "slapadd (seed)",
        )?;
        let port = free_port()?;
        let url = format!("ldap://127.0.0.1:{port}");
        let log = fs::File::create(dir.join("slapd.log"))?;
        // `-d 0`: stay in the foreground (so the pid is ours), without debug output.
        let child = Command::new(&slapd)
            .arg("-h")
            .arg(format!("{url}/"))
            .arg("-F")
            .arg(&config_dir)
            .args(["-d", "0"])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("starting slapd")?;
        let mut server = Slapd {
            url,
            port,
            bind_dn,
            bind_password,
            dir,
            child: Some(child),
        };
        if let Err(e) = server.wait_until_ready() {
            let log = fs::read_to_string(server.dir.join("slapd.log")).unwrap_or_default();
            let _ = server.stop();
            return Err(e.context(format!("slapd log:\n{log}")));
        }
        Ok(server)
    }

    fn wait_until_ready(&mut self) -> Result<()> {
        let t0 = Instant::now();
        loop {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                bail!("slapd exited before it answered ({status})");
            }
            match simple_bind(self.port, &self.bind_dn, &self.bind_password) {
                Ok(0) => return Ok(()),
                Ok(code) => bail!("slapd refused the administrator's bind (LDAP result {code})"),
                Err(_) if t0.elapsed() < READY_TIMEOUT => {
                    std::thread::sleep(Duration::from_millis(100))
                }
                Err(e) => {
                    return Err(e.context(format!(
                        "slapd did not answer on {} within {READY_TIMEOUT:?}",
                        self.url
                    )));
                }
            }
        }
    }

    /// The process id of the running `slapd`.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// What the tests read: `CLOAKROOM_TEST_LDAP_*`.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("CLOAKROOM_TEST_LDAP_URL", self.url.clone()),
            ("CLOAKROOM_TEST_LDAP_BIND_DN", self.bind_dn.clone()),
            (
                "CLOAKROOM_TEST_LDAP_BIND_PASSWORD",
                self.bind_password.clone(),
            ),
            ("CLOAKROOM_TEST_LDAP_BASE_DN", BASE_DN.to_owned()),
            ("CLOAKROOM_TEST_LDAP_USERS_DN", USERS_DN.to_owned()),
            ("CLOAKROOM_TEST_LDAP_GROUPS_DN", GROUPS_DN.to_owned()),
            (
                "CLOAKROOM_TEST_LDAP_USER_PASSWORD",
                USER_PASSWORD.to_owned(),
            ),
        ]
    }

    /// Ends the server (after checking its pid is still our `slapd`), waits for it, and
    /// removes the folder.
    pub fn stop(&mut self) -> Result<()> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let pid = child.id();
        if child.try_wait()?.is_none() && is_our_slapd(pid, &self.dir) {
            signal("TERM", pid);
            let t0 = Instant::now();
            while child.try_wait()?.is_none() {
                if t0.elapsed() > Duration::from_secs(10) {
                    signal("KILL", pid);
                    child.wait()?;
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        } else {
            let _ = child.wait();
        }
        fs::remove_dir_all(&self.dir).with_context(|| format!("removing {}", self.dir.display()))
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            eprintln!("slapd: stopping: {e:#}");
        }
    }
}

/// Whether `pid` is a `slapd` started on the configuration in `dir` (not a reused pid).
fn is_our_slapd(pid: u32, dir: &Path) -> bool {
    let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let args: Vec<String> = cmdline
        .split(|b| *b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let config = dir.join("slapd.d").display().to_string();
    args.first().is_some_and(|a| a.ends_with("slapd")) && args.contains(&config)
}

fn signal(signal: &str, pid: u32) {
    let _ = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// One LDAP simple bind over a fresh connection; the LDAP result code (0 = success).
pub fn simple_bind(port: u16, dn: &str, password: &str) -> Result<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.write_all(&bind_request(dn, password)?)?;
    let mut buf = [0u8; 256];
    let n = s.read(&mut buf)?;
    bind_result(&buf[..n]).context("not an LDAP bind response")
}

/// BER: `SEQUENCE { messageID 1, [APPLICATION 0] { version 3, name, [0] password } }`.
fn bind_request(dn: &str, password: &str) -> Result<Vec<u8>> {
    fn tlv(tag: u8, value: &[u8]) -> Result<Vec<u8>> {
        let len = value.len();
        let mut out = vec![tag];
        match len {
            0..=127 => out.push(len as u8),
            128..=255 => out.extend([0x81, len as u8]),
            256..=65535 => out.extend([0x82, (len >> 8) as u8, len as u8]),
            _ => bail!("LDAP bind request too long"),
        }
        out.extend_from_slice(value);
        Ok(out)
    }
    let mut bind = tlv(0x02, &[3])?;
    bind.extend(tlv(0x04, dn.as_bytes())?);
    bind.extend(tlv(0x80, password.as_bytes())?);
    let mut msg = tlv(0x02, &[1])?;
    msg.extend(tlv(0x60, &bind)?);
    tlv(0x30, &msg)
}

/// The result code of a bind response: the first ENUMERATED inside `[APPLICATION 1]`.
fn bind_result(resp: &[u8]) -> Option<u8> {
    let at = resp.iter().position(|b| *b == 0x61)?;
    let rest = resp.get(at..)?;
    let e = rest.windows(2).position(|w| w == [0x0a, 0x01])?;
    rest.get(e + 2).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_request_is_well_formed_ber() {
        let r = bind_request("cn=a", "pw").unwrap();
        assert_eq!(
            r,
            [
                0x30, 0x12, 0x02, 0x01, 0x01, 0x60, 0x0d, 0x02, 0x01, 0x03, 0x04, 0x04, b'c', b'n',
                b'=', b'a', 0x80, 0x02, b'p', b'w'
            ]
        );
        let ok = [
            0x30, 0x0c, 0x02, 0x01, 0x01, 0x61, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00,
        ];
        assert_eq!(bind_result(&ok), Some(0));
        assert_eq!(bind_result(&[0x30, 0x00]), None);
    }

    #[test]
    fn seed_has_every_user_and_group() {
        let seed = seed_ldif();
        for (uid, _, _) in SEED_USERS {
            assert!(seed.contains(&format!("dn: uid={uid},{USERS_DN}\n")));
        }
        for (cn, _) in SEED_GROUPS {
            assert!(seed.contains(&format!("dn: cn={cn},{GROUPS_DN}\n")));
        }
    }

    /// Starts a real slapd (Debian's package must be installed), binds, and stops it.
    #[test]
    fn starts_answers_and_stops() {
        let parent = std::env::temp_dir();
        let mut s = match Slapd::start(&parent) {
            Ok(s) => s,
            Err(e) => panic!("{e:#}"),
        };
        let pid = s.pid().unwrap();
        assert_eq!(
            simple_bind(s.port, &s.bind_dn, &s.bind_password).unwrap(),
            0
        );
        let alice = format!("uid=alice,{USERS_DN}");
        assert_eq!(simple_bind(s.port, &alice, USER_PASSWORD).unwrap(), 0);
        assert_eq!(
            simple_bind(s.port, &alice, "wrong").unwrap(),
            49,
            "invalidCredentials"
        );
        let dir = s.dir.clone();
        s.stop().unwrap();
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "slapd is gone"
        );
        assert!(!dir.exists(), "its folder is removed");
    }
}
