//! Reads the credentials operators already have into [`ImportedProfile`]s:
//! - the aliyun CLI's `~/.aliyun/config.json` (names from aliyun-cli `config/profile.go`);
//! - environment variables (`ALIBABA_CLOUD_*` of the SDKs, `ALIBABACLOUD_*` of the CLI, the older
//!   `ALICLOUD_*` of Terraform);
//! - the SDKs' INI credentials file `~/.alibabacloud/credentials` (credentials-go
//!   `credentials/profile_provider.go`, credentials-java `AuthConstant.java`).
//!
//! Parsing is pure: text in, profiles out. One bad profile never fails a file; it comes back
//! with `problems`. A mode ImageDesk cannot use yet comes back as [`CredentialMode::Unsupported`]
//! without its secrets, so the UI can say so instead of importing something half-working.
//! No secret ever reaches an error, a problem or `Debug` output.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::secret::Secret;

/// How a profile authenticates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CredentialMode {
    /// A long-lived AccessKey pair (CLI `AK`, INI `access_key`).
    AccessKey,
    /// An AccessKey pair with an STS security token (CLI `StsToken`, INI `sts`).
    StsToken,
    /// AssumeRole signed with an AccessKey pair (CLI `RamRoleArn`, INI `ram_role_arn`).
    RamRoleArn,
    /// The RAM role of the ECS instance ImageDesk runs on (CLI `EcsRamRole`, INI `ecs_ram_role`).
    EcsRamRole,
    /// A mode ImageDesk does not handle yet, as its source spells it; empty if the source names none.
    Unsupported(String),
}

/// The CLI's modes; it matches them case-insensitively (`NormalizeMode` in aliyun-cli).
const CLI_MODES: &[&str] = &[
    "AK",
    "StsToken",
    "RamRoleArn",
    "EcsRamRole",
    "RsaKeyPair",
    "RamRoleArnWithRoleName",
    "ChainableRamRoleArn",
    "External",
    "CredentialsURI",
    "OIDC",
    "CloudSSO",
    "OAuth",
    "BearerToken",
    "Anonymous",
];

impl CredentialMode {
    pub fn is_supported(&self) -> bool {
        !matches!(self, Self::Unsupported(_))
    }

    fn from_cli(name: &str) -> Self {
        let canonical = CLI_MODES.iter().find(|mode| mode.eq_ignore_ascii_case(name)).copied();
        match canonical.unwrap_or(name) {
            "AK" => Self::AccessKey,
            "StsToken" => Self::StsToken,
            "RamRoleArn" => Self::RamRoleArn,
            "EcsRamRole" => Self::EcsRamRole,
            other => Self::Unsupported(other.to_owned()),
        }
    }

    fn from_ini_type(name: &str) -> Self {
        match name.to_ascii_lowercase().as_str() {
            "access_key" => Self::AccessKey,
            "sts" => Self::StsToken,
            "ram_role_arn" => Self::RamRoleArn,
            "ecs_ram_role" => Self::EcsRamRole,
            _ => Self::Unsupported(name.to_owned()),
        }
    }
}

/// The aliyun CLI's names, the ones operators know best.
impl fmt::Display for CredentialMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::AccessKey => "AK",
            Self::StsToken => "StsToken",
            Self::RamRoleArn => "RamRoleArn",
            Self::EcsRamRole => "EcsRamRole",
            Self::Unsupported(name) if name.is_empty() => "(none)",
            Self::Unsupported(name) => name,
        })
    }
}

/// Where a profile was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportSource {
    AliyunCli { path: PathBuf },
    Environment,
    CredentialsFile { path: PathBuf },
}

impl ImportSource {
    pub fn path(&self) -> Option<&Path> {
        match self {
            Self::AliyunCli { path } | Self::CredentialsFile { path } => Some(path),
            Self::Environment => None,
        }
    }
}

impl fmt::Display for ImportSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AliyunCli { path } => write!(f, "aliyun CLI config {}", path.display()),
            Self::Environment => f.write_str("environment variables"),
            Self::CredentialsFile { path } => write!(f, "credentials file {}", path.display()),
        }
    }
}

/// One profile found in a source. Only the fields its mode uses are kept (a CLI profile switched
/// from AK to EcsRamRole still holds the old key); unsupported modes keep no secrets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportedProfile {
    pub source: ImportSource,
    pub name: String,
    /// The CLI's `current` profile, or the INI `[default]` section.
    pub is_current: bool,
    pub mode: CredentialMode,
    pub region_id: Option<String>,
    pub access_key_id: Option<String>,
    pub access_key_secret: Option<Secret>,
    /// StsToken; for RamRoleArn, optional (the pair that signs AssumeRole is itself STS).
    pub security_token: Option<Secret>,
    pub role_arn: Option<String>,
    pub role_session_name: Option<String>,
    /// EcsRamRole: the instance's role; `None` = ask the metadata service which one is attached.
    pub role_name: Option<String>,
    pub external_id: Option<String>,
    /// RamRoleArn: a policy that narrows the assumed role; dropping it would widen access.
    pub policy: Option<String>,
    /// RamRoleArn: the region of the STS endpoint (`sts.<region>.aliyuncs.com`).
    pub sts_region: Option<String>,
    /// RamRoleArn: requested session length; `None` = the default (3600 s).
    pub duration_secs: Option<u32>,
    /// ChainableRamRoleArn (unsupported yet): the profile whose credentials assume the role.
    pub source_profile: Option<String>,
    /// What is missing or malformed, for the UI. Never contains a secret.
    pub problems: Vec<String>,
}

impl ImportedProfile {
    fn new(source: ImportSource, name: String, mode: CredentialMode) -> Self {
        Self {
            source,
            name,
            is_current: false,
            mode,
            region_id: None,
            access_key_id: None,
            access_key_secret: None,
            security_token: None,
            role_arn: None,
            role_session_name: None,
            role_name: None,
            external_id: None,
            policy: None,
            sts_region: None,
            duration_secs: None,
            source_profile: None,
            problems: Vec::new(),
        }
    }

    /// Lists what the mode needs but lacks, then drops the fields the mode does not use.
    fn finish(&mut self, names: &FieldNames, context: &str) {
        use CredentialMode::{AccessKey, EcsRamRole, RamRoleArn, StsToken, Unsupported};
        let uses_key_pair = matches!(self.mode, AccessKey | StsToken | RamRoleArn);
        let required = [
            (names.id, uses_key_pair && self.access_key_id.is_none()),
            (names.secret, uses_key_pair && self.access_key_secret.is_none()),
            (names.token, self.mode == StsToken && self.security_token.is_none()),
            (names.role_arn, self.mode == RamRoleArn && self.role_arn.is_none()),
            (
                names.session,
                self.mode == RamRoleArn && names.session_required && self.role_session_name.is_none(),
            ),
        ];
        for (key, _) in required.into_iter().filter(|(_, missing)| *missing) {
            self.problems.push(format!("{key} is empty or missing ({context} needs it)"));
        }

        match self.mode {
            AccessKey => {
                self.security_token = None;
                self.role_name = None;
                self.clear_assume_role();
            }
            StsToken => {
                self.role_name = None;
                self.clear_assume_role();
            }
            RamRoleArn => self.role_name = None,
            EcsRamRole => {
                self.access_key_id = None;
                self.access_key_secret = None;
                self.security_token = None;
                self.clear_assume_role();
            }
            Unsupported(_) => {
                self.access_key_secret = None;
                self.security_token = None;
            }
        }

        // credentials-go refuses shorter sessions ("900s - max session duration").
        if let Some(secs) = self.duration_secs
            && secs < 900
        {
            self.problems.push(format!("{} is {secs} seconds; STS needs at least 900", names.duration));
        }
    }

    fn clear_assume_role(&mut self) {
        self.role_arn = None;
        self.role_session_name = None;
        self.external_id = None;
        self.policy = None;
        self.sts_region = None;
        self.duration_secs = None;
        self.source_profile = None;
    }
}

/// How one source spells the fields a mode requires, so `problems` name what the user must fix.
struct FieldNames {
    id: &'static str,
    secret: &'static str,
    token: &'static str,
    role_arn: &'static str,
    session: &'static str,
    duration: &'static str,
    /// The CLI and the INI readers refuse RamRoleArn without one; the SDKs invent one from env.
    session_required: bool,
}

const CLI_NAMES: FieldNames = FieldNames {
    id: "access_key_id",
    secret: "access_key_secret",
    token: "sts_token",
    role_arn: "ram_role_arn",
    session: "ram_session_name",
    duration: "expired_seconds",
    session_required: true,
};

const INI_NAMES: FieldNames = FieldNames {
    id: "access_key_id",
    secret: "access_key_secret",
    token: "security_token",
    role_arn: "role_arn",
    session: "role_session_name",
    duration: "role_session_expiration",
    session_required: true,
};

const ENV_NAMES: FieldNames = FieldNames {
    id: ENV_ACCESS_KEY_ID[0],
    secret: ENV_ACCESS_KEY_SECRET[0],
    token: ENV_SECURITY_TOKEN[0],
    role_arn: ENV_ROLE_ARN[0],
    session: ENV_ROLE_SESSION_NAME[0],
    duration: ENV_SESSION_EXPIRATION[0],
    session_required: false,
};

/// A whole file that could not be read as its kind. Messages name lines, never contents.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{} is not valid JSON (line {line}, column {column}): {reason}", path.display())]
    Json { path: PathBuf, line: usize, column: usize, reason: String },
    #[error("{} is not an aliyun CLI config: {reason}", path.display())]
    NotCliConfig { path: PathBuf, reason: &'static str },
    #[error("{}, line {line}: {reason}", path.display())]
    Ini { path: PathBuf, line: usize, reason: &'static str },
}

fn non_empty(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

// ---------------------------------------------------------------------------------------------
// aliyun CLI config.json

/// Reads the aliyun CLI's `config.json`. Fails only if the file is not JSON or has no
/// `profiles` list; each profile's own trouble goes to its `problems`.
pub fn parse_aliyun_cli_config(text: &str, path: &Path) -> Result<Vec<ImportedProfile>, ImportError> {
    let root: Value = serde_json::from_str(text).map_err(|e| {
        // serde_json appends " at line L column C"; the position has its own fields. Syntax
        // errors from parsing into a `Value` never quote the input, so no secret leaks here.
        let message = e.to_string();
        let reason = message.split(" at line ").next().unwrap_or_default().to_owned();
        ImportError::Json { path: path.to_path_buf(), line: e.line(), column: e.column(), reason }
    })?;
    let shape_error = |reason| ImportError::NotCliConfig { path: path.to_path_buf(), reason };
    let Value::Object(root) = root else {
        return Err(shape_error("the top level is not a JSON object"));
    };
    let entries = match root.get("profiles") {
        Some(Value::Array(entries)) => entries,
        Some(_) => return Err(shape_error("\"profiles\" is not a list")),
        None => return Err(shape_error("it has no \"profiles\" list")),
    };
    let current = root.get("current").and_then(Value::as_str).unwrap_or_default();

    let mut seen = HashSet::new();
    let mut profiles = Vec::with_capacity(entries.len());
    for (index, entry) in entries.iter().enumerate() {
        let mut profile = cli_profile(entry, index, path);
        if seen.insert(profile.name.clone()) {
            profile.is_current = profile.name == current;
        } else {
            // `GetProfile` in aliyun-cli returns the first match.
            profile
                .problems
                .push("an earlier profile has the same name; the aliyun CLI uses that one".into());
        }
        profiles.push(profile);
    }
    Ok(profiles)
}

/// One profile object, read field by field so a wrong type costs only that field.
struct JsonFields<'a> {
    fields: &'a Map<String, Value>,
    problems: Vec<String>,
}

impl JsonFields<'_> {
    fn text(&mut self, key: &str) -> Option<String> {
        match self.fields.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::String(value)) => non_empty(value),
            Some(_) => {
                self.problems.push(format!("{key} is not a string"));
                None
            }
        }
    }

    fn has(&self, key: &str) -> bool {
        matches!(self.fields.get(key), Some(Value::String(value)) if !value.trim().is_empty())
    }

    /// A count of seconds; 0 means "the default", as in the CLI.
    fn seconds(&mut self, key: &str) -> Option<u32> {
        let value = self.fields.get(key)?;
        if value.is_null() {
            return None;
        }
        match value.as_u64().map(u32::try_from) {
            Some(Ok(0)) => None,
            Some(Ok(secs)) => Some(secs),
            _ => {
                self.problems.push(format!("{key} is not a whole number of seconds"));
                None
            }
        }
    }

    /// The CLI's `AutoModeRecognition`, for profiles written by hand without a `mode`.
    fn inferred_mode(&self) -> CredentialMode {
        let unsupported = |name: &str| CredentialMode::Unsupported(name.to_owned());
        if self.has("access_key_id") && self.has("access_key_secret") {
            if self.has("sts_token") {
                CredentialMode::StsToken
            } else if self.has("ram_role_arn") {
                CredentialMode::RamRoleArn
            } else {
                CredentialMode::AccessKey
            }
        } else if self.has("private_key") && self.has("key_pair_name") {
            unsupported("RsaKeyPair")
        } else if self.has("ram_role_name") {
            CredentialMode::EcsRamRole
        } else if self.has("process_command") {
            unsupported("External")
        } else if self.has("oidc_provider_arn") && self.has("oidc_token_file") && self.has("ram_role_arn") {
            unsupported("OIDC")
        } else if self.has("cloud_sso_sign_in_url") {
            unsupported("CloudSSO")
        } else if self.has("bearer_token") {
            unsupported("BearerToken")
        } else {
            unsupported("")
        }
    }
}

fn cli_profile(entry: &Value, index: usize, path: &Path) -> ImportedProfile {
    let source = ImportSource::AliyunCli { path: path.to_path_buf() };
    let fallback_name = format!("#{}", index + 1);
    let Some(fields) = entry.as_object() else {
        let mut profile =
            ImportedProfile::new(source, fallback_name, CredentialMode::Unsupported(String::new()));
        profile.problems.push("this entry of \"profiles\" is not a JSON object".into());
        return profile;
    };
    let mut fields = JsonFields { fields, problems: Vec::new() };
    let name = fields.text("name");
    let mode = match fields.text("mode") {
        Some(mode) => CredentialMode::from_cli(&mode),
        None => fields.inferred_mode(),
    };

    let mut profile = ImportedProfile::new(source, name.clone().unwrap_or(fallback_name), mode);
    if name.is_none() {
        profile.problems.push("the profile has no name".into());
    }
    if profile.mode == CredentialMode::Unsupported(String::new()) {
        profile.problems.push("the profile has no mode and is not configured yet".into());
    }
    profile.region_id = fields.text("region_id");
    profile.access_key_id = fields.text("access_key_id");
    profile.access_key_secret = fields.text("access_key_secret").map(Secret::from);
    profile.security_token = fields.text("sts_token").map(Secret::from);
    profile.role_arn = fields.text("ram_role_arn");
    profile.role_session_name = fields.text("ram_session_name");
    profile.role_name = fields.text("ram_role_name");
    profile.external_id = fields.text("external_id");
    // The CLI never writes `policy`, but credentials-go reads it from CLI profiles.
    profile.policy = fields.text("policy");
    profile.sts_region = fields.text("sts_region");
    profile.source_profile = fields.text("source_profile");
    profile.duration_secs = fields.seconds("expired_seconds");
    profile.problems.append(&mut fields.problems);

    let context = format!("mode {}", profile.mode);
    profile.finish(&CLI_NAMES, &context);
    profile
}

// ---------------------------------------------------------------------------------------------
// Environment variables

// Names per setting, preferred first: the SDKs' `ALIBABA_CLOUD_*`, the CLI's `ALIBABACLOUD_*`,
// then the `ALICLOUD_*` names of Terraform (alicloud/provider.go) and the CLI.
const ENV_ACCESS_KEY_ID: &[&str] = &[
    "ALIBABA_CLOUD_ACCESS_KEY_ID",
    "ALIBABACLOUD_ACCESS_KEY_ID",
    "ALICLOUD_ACCESS_KEY_ID",
    "ALICLOUD_ACCESS_KEY",
];
const ENV_ACCESS_KEY_SECRET: &[&str] = &[
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "ALIBABACLOUD_ACCESS_KEY_SECRET",
    "ALICLOUD_ACCESS_KEY_SECRET",
    "ALICLOUD_SECRET_KEY",
];
const ENV_SECURITY_TOKEN: &[&str] =
    &["ALIBABA_CLOUD_SECURITY_TOKEN", "ALIBABACLOUD_SECURITY_TOKEN", "ALICLOUD_SECURITY_TOKEN"];
const ENV_REGION: &[&str] = &[
    "ALIBABA_CLOUD_REGION_ID",
    "ALIBABACLOUD_REGION_ID",
    "ALICLOUD_REGION_ID",
    "ALIBABA_CLOUD_REGION",
    "ALICLOUD_REGION",
];
const ENV_ROLE_ARN: &[&str] =
    &["ALIBABA_CLOUD_ROLE_ARN", "ALIBABACLOUD_ROLE_ARN", "ALICLOUD_ASSUME_ROLE_ARN"];
const ENV_ROLE_SESSION_NAME: &[&str] =
    &["ALIBABA_CLOUD_ROLE_SESSION_NAME", "ALICLOUD_ASSUME_ROLE_SESSION_NAME"];
const ENV_SESSION_EXPIRATION: &[&str] = &["ALICLOUD_ASSUME_ROLE_SESSION_EXPIRATION"];
const ENV_EXTERNAL_ID: &[&str] = &["ALIBABA_CLOUD_EXTERNAL_ID", "ALIBABACLOUD_EXTERNAL_ID"];
const ENV_STS_REGION: &[&str] = &["ALIBABA_CLOUD_STS_REGION"];
const ENV_ECS_ROLE: &[&str] = &["ALIBABA_CLOUD_ECS_METADATA", "ALICLOUD_ECS_ROLE_NAME"];
const ENV_OIDC: &[&str] = &[
    "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
    "ALIBABACLOUD_OIDC_PROVIDER_ARN",
    "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
    "ALIBABACLOUD_OIDC_TOKEN_FILE",
];
const ENV_CREDENTIALS_URI: &[&str] = &["ALIBABA_CLOUD_CREDENTIALS_URI", "ALICLOUD_CREDENTIALS_URI"];

/// The credentials the environment holds, if any, as a profile named "environment". `get` reads
/// one variable (`|name| std::env::var(name).ok()` in the app). Blank values count as unset.
pub fn from_environment(get: impl Fn(&str) -> Option<String>) -> Option<ImportedProfile> {
    let mut problems = Vec::new();
    let mut lookup = |names: &[&'static str]| first_set(&get, names, &mut problems);
    let access_key_id = lookup(ENV_ACCESS_KEY_ID);
    let access_key_secret = lookup(ENV_ACCESS_KEY_SECRET);
    let security_token = lookup(ENV_SECURITY_TOKEN);
    let region_id = lookup(ENV_REGION);
    let role_arn = lookup(ENV_ROLE_ARN);
    let role_session_name = lookup(ENV_ROLE_SESSION_NAME);
    let session_expiration = lookup(ENV_SESSION_EXPIRATION);
    let external_id = lookup(ENV_EXTERNAL_ID);
    let sts_region = lookup(ENV_STS_REGION);
    let ecs_role = lookup(ENV_ECS_ROLE);
    let is_set = |names: &[&str]| names.iter().any(|name| get(name).as_deref().and_then(non_empty).is_some());
    let oidc = is_set(ENV_OIDC);

    // Like the CLI: a key pair wins, and with a role ARN (not meant for OIDC) means AssumeRole.
    let mode = if access_key_id.is_some() || access_key_secret.is_some() || security_token.is_some() {
        if security_token.is_some() {
            CredentialMode::StsToken
        } else if role_arn.is_some() && !oidc {
            CredentialMode::RamRoleArn
        } else {
            CredentialMode::AccessKey
        }
    } else if oidc {
        CredentialMode::Unsupported("OIDC".into())
    } else if ecs_role.is_some() {
        CredentialMode::EcsRamRole
    } else if is_set(ENV_CREDENTIALS_URI) {
        CredentialMode::Unsupported("CredentialsURI".into())
    } else {
        return None;
    };

    let mut profile = ImportedProfile::new(ImportSource::Environment, "environment".into(), mode);
    profile.problems = problems;
    profile.region_id = region_id;
    profile.access_key_id = access_key_id;
    profile.access_key_secret = access_key_secret.map(Secret::from);
    profile.security_token = security_token.map(Secret::from);
    profile.role_arn = role_arn;
    profile.role_session_name = role_session_name;
    profile.role_name = ecs_role;
    profile.external_id = external_id;
    profile.sts_region = sts_region;
    profile.duration_secs = match session_expiration.map(|secs| secs.parse::<u32>()) {
        None | Some(Ok(0)) => None,
        Some(Ok(secs)) => Some(secs),
        Some(Err(_)) => {
            profile.problems.push(format!("{} is not a whole number of seconds", ENV_SESSION_EXPIRATION[0]));
            None
        }
    };
    let context = format!("mode {}", profile.mode);
    profile.finish(&ENV_NAMES, &context);
    Some(profile)
}

/// The first of `names` that is set. A later one set to something else is reported, because
/// tools disagree on precedence (Terraform reads `ALICLOUD_ACCESS_KEY` before the SDK name).
fn first_set(
    get: &impl Fn(&str) -> Option<String>,
    names: &[&'static str],
    problems: &mut Vec<String>,
) -> Option<String> {
    let mut chosen: Option<(&str, String)> = None;
    for &name in names {
        let Some(value) = get(name).as_deref().and_then(non_empty) else { continue };
        match &chosen {
            None => chosen = Some((name, value)),
            Some((first, kept)) if *kept != value => {
                problems.push(format!("{name} is also set, to a different value; {first} is used"));
            }
            Some(_) => {}
        }
    }
    chosen.map(|(_, value)| value)
}

// ---------------------------------------------------------------------------------------------
// INI credentials file

/// Reads the SDKs' INI credentials file: one `[name]` section per profile, `type` = `access_key`
/// | `sts` | `ram_role_arn` | `ecs_ram_role` | (unsupported) `rsa_key_pair`, `bearer`, ...
/// Fails only on a line that breaks the INI structure (a bad `[section]` header, a setting
/// before the first section).
pub fn parse_credentials_file(text: &str, path: &Path) -> Result<Vec<ImportedProfile>, ImportError> {
    let sections = parse_ini(text).map_err(|(line, reason)| ImportError::Ini {
        path: path.to_path_buf(),
        line,
        reason,
    })?;
    Ok(sections.into_iter().map(|section| ini_profile(section, path)).collect())
}

struct IniSection {
    name: String,
    entries: HashMap<String, String>,
    problems: Vec<String>,
}

/// Comments start a line with `#` or `;`, or follow a value after whitespace (so a value may
/// contain `#`, as in credentials-java's `ProfileUtils`); a quoted value may hold both anywhere.
/// Values are trimmed later, like every imported value: no id, key or secret has blanks.
/// Keys are case-insensitive; a repeated key or section adds to the earlier one, the last value wins.
fn parse_ini(text: &str) -> Result<Vec<IniSection>, (usize, &'static str)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut sections: Vec<IniSection> = Vec::new();
    let mut current = None;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        if let Some(header) = line.strip_prefix('[') {
            let Some((name, rest)) = header.split_once(']') else {
                return Err((number, "a [section] header has no closing ']'"));
            };
            if !is_blank_or_comment(rest) {
                return Err((number, "text follows a [section] header"));
            }
            let name = name.trim();
            if name.is_empty() {
                return Err((number, "a [section] header has no name"));
            }
            current = Some(match sections.iter().position(|section| section.name == name) {
                Some(existing) => existing,
                None => {
                    let entries = HashMap::new();
                    sections.push(IniSection { name: name.to_owned(), entries, problems: Vec::new() });
                    sections.len() - 1
                }
            });
            continue;
        }
        let Some(section) = current.and_then(|index| sections.get_mut(index)) else {
            return Err((number, "a setting comes before the first [section]"));
        };
        // Problems name the line and key only: the line itself may be a pasted secret.
        let Some((key, raw_value)) = line.split_once('=') else {
            section.problems.push(format!("line {number} is not `key = value`; it was skipped"));
            continue;
        };
        let key = key.trim().to_ascii_lowercase();
        if key.is_empty() {
            section.problems.push(format!("line {number} has no key before '='; it was skipped"));
            continue;
        }
        match ini_value(raw_value) {
            Ok(value) => {
                section.entries.insert(key, value);
            }
            Err(why) => {
                section.problems.push(format!("line {number}: the value of {key} {why}; it was skipped"))
            }
        }
    }
    Ok(sections)
}

fn ini_value(raw: &str) -> Result<String, &'static str> {
    let raw = raw.trim();
    if let Some(quote) = raw.chars().next().filter(|c| *c == '"' || *c == '\'') {
        let inner = &raw[1..];
        return match inner.split_once(quote) {
            Some((value, rest)) if is_blank_or_comment(rest) => Ok(value.to_owned()),
            Some(_) => Err("has text after its closing quote"),
            None => Err("has no closing quote"),
        };
    }
    let comment = raw
        .char_indices()
        .find(|&(at, c)| matches!(c, '#' | ';') && (at == 0 || raw[..at].ends_with(char::is_whitespace)));
    Ok(comment.map_or(raw, |(at, _)| raw[..at].trim_end()).to_owned())
}

fn is_blank_or_comment(text: &str) -> bool {
    let text = text.trim_start();
    text.is_empty() || text.starts_with(['#', ';'])
}

fn ini_profile(section: IniSection, path: &Path) -> ImportedProfile {
    let IniSection { name, entries, mut problems } = section;
    let get = |key: &str| entries.get(key).and_then(|value| non_empty(value));
    let type_name = get("type");
    let mode = match &type_name {
        Some(type_name) => CredentialMode::from_ini_type(type_name),
        None => {
            problems.push("type is missing (access_key, sts, ram_role_arn or ecs_ram_role)".into());
            CredentialMode::Unsupported(String::new())
        }
    };

    let mut profile =
        ImportedProfile::new(ImportSource::CredentialsFile { path: path.to_path_buf() }, name, mode);
    // The SDKs read `[default]` unless ALIBABA_CLOUD_PROFILE names another section.
    profile.is_current = profile.name == "default";
    profile.region_id = get("region_id");
    profile.access_key_id = get("access_key_id");
    profile.access_key_secret = get("access_key_secret").map(Secret::from);
    profile.security_token = get("security_token").map(Secret::from);
    profile.role_arn = get("role_arn");
    profile.role_session_name = get("role_session_name");
    profile.role_name = get("role_name");
    profile.policy = get("policy");
    profile.duration_secs = match get("role_session_expiration").map(|secs| secs.parse::<u32>()) {
        None | Some(Ok(0)) => None,
        Some(Ok(secs)) => Some(secs),
        Some(Err(_)) => {
            problems.push("role_session_expiration is not a whole number of seconds".into());
            None
        }
    };
    profile.problems = problems;
    let context = format!("type {}", type_name.as_deref().unwrap_or("(none)"));
    profile.finish(&INI_NAMES, &context);
    profile
}

// ---------------------------------------------------------------------------------------------
// Where to look

/// The files to look in, in order: the CLI config (and Terraform's `ALICLOUD_SHARED_CREDENTIALS_FILE`,
/// a CLI-format file), then the credentials file named by `ALIBABA_CLOUD_CREDENTIALS_FILE`, else
/// both default names (`credentials` for Go/Python, `credentials.ini` for credentials-java).
pub fn default_locations(home: &Path, get: impl Fn(&str) -> Option<String>) -> Vec<ImportSource> {
    let env_path = |name: &str| get(name).as_deref().and_then(non_empty).map(|path| expand_home(&path, home));
    let mut locations = vec![ImportSource::AliyunCli { path: home.join(".aliyun").join("config.json") }];
    if let Some(path) = env_path("ALICLOUD_SHARED_CREDENTIALS_FILE") {
        locations.push(ImportSource::AliyunCli { path });
    }
    match env_path("ALIBABA_CLOUD_CREDENTIALS_FILE") {
        Some(path) => locations.push(ImportSource::CredentialsFile { path }),
        None => {
            let dir = home.join(".alibabacloud");
            locations.push(ImportSource::CredentialsFile { path: dir.join("credentials") });
            locations.push(ImportSource::CredentialsFile { path: dir.join("credentials.ini") });
        }
    }
    let mut seen = HashSet::new();
    locations.retain(|location| seen.insert(location.path().map(Path::to_path_buf)));
    locations
}

fn expand_home(path: &str, home: &Path) -> PathBuf {
    match path.strip_prefix("~/").or_else(|| path.strip_prefix("~\\")) {
        Some(rest) => home.join(rest),
        None if path == "~" => home.to_path_buf(),
        None => PathBuf::from(path),
    }
}

/// Everything [`read_all`] found.
#[derive(Debug, Default)]
pub struct ImportScan {
    pub profiles: Vec<ImportedProfile>,
    /// Files that exist but could not be read or parsed. Missing files are not errors.
    pub errors: Vec<ImportError>,
    /// Every file looked at, found or not, so the UI can say where it looked.
    pub searched: Vec<ImportSource>,
}

/// Reads every [`default_locations`] file that exists, then the environment.
pub fn read_all(home: &Path, get: impl Fn(&str) -> Option<String>) -> ImportScan {
    let mut scan = ImportScan::default();
    for location in default_locations(home, &get) {
        if let Some(path) = location.path() {
            match std::fs::read_to_string(path) {
                Ok(text) => match parse_location(&location, &text) {
                    Ok(profiles) => scan.profiles.extend(profiles),
                    Err(error) => scan.errors.push(error),
                },
                Err(error) if error.kind() == io::ErrorKind::NotFound => {}
                Err(source) => scan.errors.push(ImportError::Read { path: path.to_path_buf(), source }),
            }
        }
        scan.searched.push(location);
    }
    scan.profiles.extend(from_environment(&get));
    scan
}

/// A credentials file holding JSON is read as a CLI config: Terraform's provider maps
/// `ALIBABA_CLOUD_CREDENTIALS_FILE` to its `shared_credentials_file`, which is CLI-format.
fn parse_location(location: &ImportSource, text: &str) -> Result<Vec<ImportedProfile>, ImportError> {
    match location {
        ImportSource::AliyunCli { path } => parse_aliyun_cli_config(text, path),
        ImportSource::CredentialsFile { path } if text.trim_start().starts_with('{') => {
            parse_aliyun_cli_config(text, path)
        }
        ImportSource::CredentialsFile { path } => parse_credentials_file(text, path),
        ImportSource::Environment => Ok(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRETS: &[&str] =
        &["ak-secret-1", "sts-secret-2", "tok-3", "role-secret-4", "leftover-5", "ini-secret-6"];

    fn cli_path() -> PathBuf {
        PathBuf::from("/home/op/.aliyun/config.json")
    }

    fn ini_path() -> PathBuf {
        PathBuf::from("/home/op/.alibabacloud/credentials")
    }

    fn by_name<'a>(profiles: &'a [ImportedProfile], name: &str) -> &'a ImportedProfile {
        profiles.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("no profile {name}"))
    }

    fn expose(secret: &Option<Secret>) -> Option<&str> {
        secret.as_ref().map(Secret::expose)
    }

    /// Debug output, problems and errors of everything parsed must not show any secret.
    fn assert_no_secret_shown(shown: &str) {
        for secret in SECRETS {
            assert!(!shown.contains(secret), "{secret} leaked: {shown}");
        }
    }

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: HashMap<String, String> =
            vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| vars.get(name).cloned()
    }

    const CLI_EVERY_MODE: &str = r#"{
        "current": "sts",
        "profiles": [
            {"name": "ak", "mode": "AK", "access_key_id": "LTAIak", "access_key_secret": "ak-secret-1",
             "sts_token": "leftover-5", "ram_role_name": "stale", "region_id": "cn-hangzhou",
             "output_format": "json", "language": "en", "retry_count": 3},
            {"name": "sts", "mode": "StsToken", "access_key_id": "STS.id", "access_key_secret": "sts-secret-2",
             "sts_token": "tok-3", "region_id": "cn-shanghai"},
            {"name": "role", "mode": "RamRoleArn", "access_key_id": "LTAIrole", "access_key_secret": "role-secret-4",
             "ram_role_arn": "acs:ram::123:role/imagedesk", "ram_session_name": "desk", "expired_seconds": 1800,
             "external_id": "ext-1", "sts_region": "cn-beijing", "region_id": "cn-beijing"},
            {"name": "ecs", "mode": "EcsRamRole", "ram_role_name": "ImageRole", "access_key_id": "LTAIold",
             "access_key_secret": "leftover-5", "region_id": "cn-hangzhou"},
            {"name": "lower", "mode": "ak", "access_key_id": "LTAIlow", "access_key_secret": "ak-secret-1"},
            {"name": "rsa", "mode": "RsaKeyPair", "private_key": "/k.pem", "key_pair_name": "kp"},
            {"name": "chain", "mode": "ChainableRamRoleArn", "source_profile": "ak",
             "ram_role_arn": "acs:ram::123:role/next", "ram_session_name": "s"},
            {"name": "ext", "mode": "External", "process_command": "acs-sso login"},
            {"name": "uri", "mode": "CredentialsURI", "credentials_uri": "http://localhost:6666/"},
            {"name": "oidc", "mode": "OIDC", "oidc_provider_arn": "acs:ram::1:oidc-provider/p",
             "oidc_token_file": "/var/run/token", "ram_role_arn": "acs:ram::1:role/r", "ram_session_name": "s"},
            {"name": "sso", "mode": "CloudSSO", "cloud_sso_sign_in_url": "https://signin", "access_key_id": "STS.x",
             "access_key_secret": "sts-secret-2", "sts_token": "tok-3", "sts_expiration": 1700000000},
            {"name": "oauth", "mode": "OAuth", "oauth_site_type": "CN"},
            {"name": "bearer", "mode": "BearerToken", "bearer_token": "tok-3"},
            {"name": "anon", "mode": "Anonymous"},
            {"name": "future", "mode": "QuantumKey"}
        ],
        "meta_path": ""
    }"#;

    #[test]
    fn cli_reads_every_mode() {
        let profiles = parse_aliyun_cli_config(CLI_EVERY_MODE, &cli_path()).unwrap();
        assert_eq!(profiles.len(), 15);
        assert!(profiles.iter().all(|p| p.source == ImportSource::AliyunCli { path: cli_path() }));

        let ak = by_name(&profiles, "ak");
        assert_eq!(ak.mode, CredentialMode::AccessKey);
        assert_eq!(ak.access_key_id.as_deref(), Some("LTAIak"));
        assert_eq!(expose(&ak.access_key_secret), Some("ak-secret-1"));
        assert_eq!(ak.region_id.as_deref(), Some("cn-hangzhou"));
        // Leftovers from other modes are not imported.
        assert_eq!((ak.security_token.as_ref(), ak.role_name.as_ref()), (None, None));
        assert!(ak.problems.is_empty(), "{:?}", ak.problems);
        assert!(!ak.is_current);

        let sts = by_name(&profiles, "sts");
        assert_eq!(sts.mode, CredentialMode::StsToken);
        assert!(sts.is_current);
        assert_eq!(expose(&sts.security_token), Some("tok-3"));
        assert!(sts.problems.is_empty(), "{:?}", sts.problems);

        let role = by_name(&profiles, "role");
        assert_eq!(role.mode, CredentialMode::RamRoleArn);
        assert_eq!(role.role_arn.as_deref(), Some("acs:ram::123:role/imagedesk"));
        assert_eq!(role.role_session_name.as_deref(), Some("desk"));
        assert_eq!(role.duration_secs, Some(1800));
        assert_eq!(role.external_id.as_deref(), Some("ext-1"));
        assert_eq!(role.sts_region.as_deref(), Some("cn-beijing"));
        assert_eq!(expose(&role.access_key_secret), Some("role-secret-4"));
        assert!(role.problems.is_empty(), "{:?}", role.problems);

        let ecs = by_name(&profiles, "ecs");
        assert_eq!(ecs.mode, CredentialMode::EcsRamRole);
        assert_eq!(ecs.role_name.as_deref(), Some("ImageRole"));
        assert_eq!((ecs.access_key_id.as_ref(), ecs.access_key_secret.as_ref()), (None, None));
        assert!(ecs.problems.is_empty(), "{:?}", ecs.problems);

        // The CLI matches modes case-insensitively.
        assert_eq!(by_name(&profiles, "lower").mode, CredentialMode::AccessKey);

        for (name, mode) in [
            ("rsa", "RsaKeyPair"),
            ("chain", "ChainableRamRoleArn"),
            ("ext", "External"),
            ("uri", "CredentialsURI"),
            ("oidc", "OIDC"),
            ("sso", "CloudSSO"),
            ("oauth", "OAuth"),
            ("bearer", "BearerToken"),
            ("anon", "Anonymous"),
            ("future", "QuantumKey"),
        ] {
            let profile = by_name(&profiles, name);
            assert_eq!(profile.mode, CredentialMode::Unsupported(mode.into()), "{name}");
            assert!(!profile.mode.is_supported());
            assert_eq!(profile.mode.to_string(), mode);
            assert_eq!((profile.access_key_secret.as_ref(), profile.security_token.as_ref()), (None, None));
        }
        let chain = by_name(&profiles, "chain");
        assert_eq!(chain.source_profile.as_deref(), Some("ak"));
        assert_eq!(chain.role_arn.as_deref(), Some("acs:ram::123:role/next"));

        assert_no_secret_shown(&format!("{profiles:?}"));
    }

    #[test]
    fn cli_reports_missing_fields_per_profile() {
        let text = r#"{"current": "default", "profiles": [
            {"name": "default", "mode": "", "output_format": "json", "language": "zh"},
            {"name": "no-secret", "mode": "AK", "access_key_id": "LTAI1"},
            {"name": "no-token", "mode": "StsToken", "access_key_id": "STS.1", "access_key_secret": "sts-secret-2"},
            {"name": "no-session", "mode": "RamRoleArn", "access_key_id": "LTAI2",
             "access_key_secret": "role-secret-4", "ram_role_arn": "acs:ram::1:role/r", "expired_seconds": 300},
            {"name": "bad-types", "mode": "AK", "access_key_id": 42, "access_key_secret": "ak-secret-1",
             "expired_seconds": "long"},
            {"mode": "AK", "access_key_id": "LTAI3", "access_key_secret": "ak-secret-1"},
            "not an object",
            {"name": "no-secret", "mode": "AK", "access_key_id": "LTAI4", "access_key_secret": "ak-secret-1"}
        ]}"#;
        let profiles = parse_aliyun_cli_config(text, &cli_path()).unwrap();
        let problems = |index: usize| profiles[index].problems.join(" | ");

        assert_eq!(profiles[0].mode, CredentialMode::Unsupported(String::new()));
        assert!(problems(0).contains("not configured"), "{}", problems(0));
        assert!(profiles[0].is_current);

        assert_eq!(profiles[1].mode, CredentialMode::AccessKey);
        assert_eq!(problems(1), "access_key_secret is empty or missing (mode AK needs it)");
        assert_eq!(problems(2), "sts_token is empty or missing (mode StsToken needs it)");
        assert!(problems(3).contains("ram_session_name is empty or missing (mode RamRoleArn needs it)"));
        assert!(problems(3).contains("expired_seconds is 300 seconds"), "{}", problems(3));

        // A wrong type costs that field only; `expired_seconds` is not used by AK, so dropped.
        assert!(problems(4).contains("access_key_id is not a string"), "{}", problems(4));
        assert!(problems(4).contains("access_key_id is empty or missing"), "{}", problems(4));

        assert_eq!(profiles[5].name, "#6");
        assert!(problems(5).contains("no name"));
        assert_eq!(profiles[6].name, "#7");
        assert!(problems(6).contains("not a JSON object"));

        assert!(problems(7).contains("same name"), "{}", problems(7));
        assert_no_secret_shown(&format!("{profiles:?}"));
    }

    #[test]
    fn cli_infers_a_missing_mode_like_the_cli() {
        let text = r#"{"profiles": [
            {"name": "a", "access_key_id": "LTAI", "access_key_secret": "ak-secret-1"},
            {"name": "b", "access_key_id": "STS.x", "access_key_secret": "sts-secret-2", "sts_token": "tok-3"},
            {"name": "c", "ram_role_name": "Role"},
            {"name": "d", "process_command": "login"}
        ]}"#;
        let modes: Vec<_> =
            parse_aliyun_cli_config(text, &cli_path()).unwrap().into_iter().map(|p| p.mode).collect();
        assert_eq!(
            modes,
            [
                CredentialMode::AccessKey,
                CredentialMode::StsToken,
                CredentialMode::EcsRamRole,
                CredentialMode::Unsupported("External".into())
            ]
        );
    }

    #[test]
    fn cli_malformed_json_names_the_position() {
        let text = "{\n  \"profiles\": [\n    {\"name\": \"x\", \"access_key_secret\": \"ak-secret-1\" \"mode\": \"AK\"}\n  ]\n}";
        let error = parse_aliyun_cli_config(text, &cli_path()).unwrap_err();
        match &error {
            ImportError::Json { line, column, .. } => assert_eq!((*line, *column), (3, 54)),
            other => panic!("{other:?}"),
        }
        let shown = error.to_string();
        assert!(shown.contains("line 3, column 54"), "{shown}");
        assert!(shown.contains("config.json"), "{shown}");
        assert_no_secret_shown(&shown);

        let truncated = parse_aliyun_cli_config("{\"profiles\": [", &cli_path()).unwrap_err();
        assert!(matches!(truncated, ImportError::Json { line: 1, .. }), "{truncated}");
    }

    #[test]
    fn cli_wrong_shape_is_an_error() {
        for text in ["[]", "{}", "{\"profiles\": {}}", "\"text\""] {
            let error = parse_aliyun_cli_config(text, &cli_path()).unwrap_err();
            assert!(matches!(error, ImportError::NotCliConfig { .. }), "{text}: {error}");
        }
        assert_eq!(parse_aliyun_cli_config("{\"profiles\": []}", &cli_path()).unwrap(), []);
    }

    #[test]
    fn env_new_names() {
        let get = env(&[
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAInew"),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ak-secret-1"),
            ("ALIBABA_CLOUD_REGION_ID", "cn-hangzhou"),
        ]);
        let profile = from_environment(get).unwrap();
        assert_eq!(profile.source, ImportSource::Environment);
        assert_eq!(profile.mode, CredentialMode::AccessKey);
        assert_eq!(profile.access_key_id.as_deref(), Some("LTAInew"));
        assert_eq!(expose(&profile.access_key_secret), Some("ak-secret-1"));
        assert_eq!(profile.region_id.as_deref(), Some("cn-hangzhou"));
        assert!(profile.problems.is_empty(), "{:?}", profile.problems);
        assert_no_secret_shown(&format!("{profile:?}"));
    }

    #[test]
    fn env_old_names() {
        let get = env(&[
            ("ALICLOUD_ACCESS_KEY", "LTAIold"),
            ("ALICLOUD_SECRET_KEY", "sts-secret-2"),
            ("ALICLOUD_SECURITY_TOKEN", "tok-3"),
            ("ALICLOUD_REGION", "cn-shanghai"),
        ]);
        let profile = from_environment(get).unwrap();
        assert_eq!(profile.mode, CredentialMode::StsToken);
        assert_eq!(profile.access_key_id.as_deref(), Some("LTAIold"));
        assert_eq!(expose(&profile.access_key_secret), Some("sts-secret-2"));
        assert_eq!(expose(&profile.security_token), Some("tok-3"));
        assert_eq!(profile.region_id.as_deref(), Some("cn-shanghai"));
        assert!(profile.problems.is_empty(), "{:?}", profile.problems);

        let get =
            env(&[("ALICLOUD_ACCESS_KEY_ID", "LTAIcli"), ("ALICLOUD_ACCESS_KEY_SECRET", "ak-secret-1")]);
        assert_eq!(from_environment(get).unwrap().access_key_id.as_deref(), Some("LTAIcli"));
    }

    #[test]
    fn env_new_names_win_and_a_conflict_is_reported() {
        let get = env(&[
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAInew"),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ak-secret-1"),
            ("ALICLOUD_ACCESS_KEY", "LTAIold"),
            ("ALICLOUD_SECRET_KEY", "ini-secret-6"),
            ("ALICLOUD_REGION", "cn-beijing"),
            ("ALIBABA_CLOUD_REGION_ID", "cn-beijing"),
        ]);
        let profile = from_environment(get).unwrap();
        assert_eq!(profile.access_key_id.as_deref(), Some("LTAInew"));
        assert_eq!(expose(&profile.access_key_secret), Some("ak-secret-1"));
        assert_eq!(
            profile.problems,
            [
                "ALICLOUD_ACCESS_KEY is also set, to a different value; ALIBABA_CLOUD_ACCESS_KEY_ID is used",
                "ALICLOUD_SECRET_KEY is also set, to a different value; ALIBABA_CLOUD_ACCESS_KEY_SECRET is used",
            ]
        );
        assert_no_secret_shown(&format!("{profile:?}"));
    }

    #[test]
    fn env_partial_or_other_modes() {
        let profile = from_environment(env(&[("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI")])).unwrap();
        assert_eq!(profile.mode, CredentialMode::AccessKey);
        assert_eq!(
            profile.problems,
            ["ALIBABA_CLOUD_ACCESS_KEY_SECRET is empty or missing (mode AK needs it)"]
        );

        let role = from_environment(env(&[
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI"),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "role-secret-4"),
            ("ALICLOUD_ASSUME_ROLE_ARN", "acs:ram::1:role/r"),
            ("ALICLOUD_ASSUME_ROLE_SESSION_EXPIRATION", "900"),
        ]))
        .unwrap();
        assert_eq!(role.mode, CredentialMode::RamRoleArn);
        assert_eq!((role.role_arn.as_deref(), role.duration_secs), (Some("acs:ram::1:role/r"), Some(900)));
        assert!(role.problems.is_empty(), "{:?}", role.problems);

        let ecs = from_environment(env(&[("ALIBABA_CLOUD_ECS_METADATA", "ImageRole")])).unwrap();
        assert_eq!((ecs.mode, ecs.role_name.as_deref()), (CredentialMode::EcsRamRole, Some("ImageRole")));

        let oidc = from_environment(env(&[
            ("ALIBABA_CLOUD_ROLE_ARN", "acs:ram::1:role/r"),
            ("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "acs:ram::1:oidc-provider/p"),
            ("ALIBABA_CLOUD_OIDC_TOKEN_FILE", "/var/run/token"),
        ]))
        .unwrap();
        assert_eq!(oidc.mode, CredentialMode::Unsupported("OIDC".into()));

        assert_eq!(from_environment(env(&[("ALIBABA_CLOUD_REGION_ID", "cn-hangzhou")])), None);
        assert_eq!(from_environment(env(&[("ALIBABA_CLOUD_ACCESS_KEY_ID", "  ")])), None);
    }

    const INI_EVERY_TYPE: &str = "\u{feff}# written by hand
[default]
type = access_key                  # long-lived key
access_key_id = LTAIdefault
access_key_secret = \"ak-secret-1\"
region_id = cn-hangzhou

; an STS token
[sts]
type=sts
access_key_id=STS.abc
access_key_secret='sts-secret-2'
security_token = tok-3

[role]
type = ram_role_arn
access_key_id = LTAIrole
access_key_secret = role-secret-4
role_arn = acs:ram::123:role/imagedesk
role_session_name = desk
role_session_expiration = 3600
policy = {\"Version\":\"1\",\"Statement\":[]}

[ecs]
type = ecs_ram_role
role_name = ImageRole

[rsa]
type = rsa_key_pair
public_key_id = pk
private_key_file = /k.pem

[bearer]
type = bearer
bearer_token = tok-3

[oidc]
type = oidc_role_arn

[mystery]
type = telepathy

[untyped]
access_key_id = LTAIx
";

    #[test]
    fn ini_reads_every_type() {
        let profiles = parse_credentials_file(INI_EVERY_TYPE, &ini_path()).unwrap();
        let names: Vec<_> = profiles.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["default", "sts", "role", "ecs", "rsa", "bearer", "oidc", "mystery", "untyped"]);

        let default = by_name(&profiles, "default");
        assert!(default.is_current);
        assert_eq!(default.mode, CredentialMode::AccessKey);
        assert_eq!(default.access_key_id.as_deref(), Some("LTAIdefault"));
        assert_eq!(expose(&default.access_key_secret), Some("ak-secret-1"));
        assert_eq!(default.region_id.as_deref(), Some("cn-hangzhou"));
        assert!(default.problems.is_empty(), "{:?}", default.problems);

        let sts = by_name(&profiles, "sts");
        assert_eq!(sts.mode, CredentialMode::StsToken);
        assert_eq!(expose(&sts.access_key_secret), Some("sts-secret-2"));
        assert_eq!(expose(&sts.security_token), Some("tok-3"));
        assert!(sts.problems.is_empty(), "{:?}", sts.problems);

        let role = by_name(&profiles, "role");
        assert_eq!(role.mode, CredentialMode::RamRoleArn);
        assert_eq!(role.role_session_name.as_deref(), Some("desk"));
        assert_eq!(role.duration_secs, Some(3600));
        assert_eq!(role.policy.as_deref(), Some("{\"Version\":\"1\",\"Statement\":[]}"));
        assert!(role.problems.is_empty(), "{:?}", role.problems);

        let ecs = by_name(&profiles, "ecs");
        assert_eq!(
            (ecs.mode.clone(), ecs.role_name.as_deref()),
            (CredentialMode::EcsRamRole, Some("ImageRole"))
        );

        for (name, type_name) in [
            ("rsa", "rsa_key_pair"),
            ("bearer", "bearer"),
            ("oidc", "oidc_role_arn"),
            ("mystery", "telepathy"),
        ] {
            assert_eq!(by_name(&profiles, name).mode, CredentialMode::Unsupported(type_name.into()));
        }
        let untyped = by_name(&profiles, "untyped");
        assert_eq!(untyped.mode, CredentialMode::Unsupported(String::new()));
        assert!(untyped.problems[0].starts_with("type is missing"));

        assert_no_secret_shown(&format!("{profiles:?}"));
    }

    #[test]
    fn ini_values_comments_and_repeats() {
        let text = "[p]
type = sts
access_key_id = STS.1#not-a-comment
access_key_secret = \"ini-secret-6 ; kept\"   ; a comment
access_key_secret = 'ak-secret-1'
security_token = tok-3
this line has no equals sign
= orphan
region_id = \"cn-hangzhou
[q]
type = access_key
[p]
region_id = cn-shenzhen
";
        let profiles = parse_credentials_file(text, &ini_path()).unwrap();
        assert_eq!(profiles.len(), 2, "a repeated section adds to the first");
        let p = &profiles[0];
        assert_eq!(p.access_key_id.as_deref(), Some("STS.1#not-a-comment"));
        assert_eq!(expose(&p.access_key_secret), Some("ak-secret-1"), "the last value wins");
        assert_eq!(p.region_id.as_deref(), Some("cn-shenzhen"));
        assert_eq!(
            p.problems,
            [
                "line 7 is not `key = value`; it was skipped",
                "line 8 has no key before '='; it was skipped",
                "line 9: the value of region_id has no closing quote; it was skipped",
            ]
        );
        assert_eq!(profiles[1].problems.len(), 2, "{:?}", profiles[1].problems);

        let quoted = parse_credentials_file(
            "[x]\ntype = access_key\naccess_key_secret = \" a;b # c \"\n",
            &ini_path(),
        )
        .unwrap();
        assert_eq!(expose(&quoted[0].access_key_secret), Some("a;b # c"), "quotes keep # and ;, not blanks");
    }

    #[test]
    fn ini_empty_and_broken_files() {
        assert_eq!(parse_credentials_file("", &ini_path()).unwrap(), []);
        assert_eq!(parse_credentials_file("# nothing\n\n; here\r\n", &ini_path()).unwrap(), []);

        for (text, line) in [
            ("[default\ntype = access_key", 1),
            ("# header\naccess_key_secret = ini-secret-6\n[default]", 2),
            ("[ ]\n", 1),
            ("[a] junk\n", 1),
        ] {
            let error = parse_credentials_file(text, &ini_path()).unwrap_err();
            assert!(matches!(error, ImportError::Ini { line: l, .. } if l == line), "{text:?}: {error}");
            assert_no_secret_shown(&error.to_string());
        }
    }

    #[test]
    fn locations_follow_the_environment() {
        let home = Path::new("/home/op");
        assert_eq!(
            default_locations(home, env(&[])),
            [
                ImportSource::AliyunCli { path: home.join(".aliyun/config.json") },
                ImportSource::CredentialsFile { path: home.join(".alibabacloud/credentials") },
                ImportSource::CredentialsFile { path: home.join(".alibabacloud/credentials.ini") },
            ]
        );
        let get = env(&[
            ("ALIBABA_CLOUD_CREDENTIALS_FILE", "~/secrets/alibaba.ini"),
            ("ALICLOUD_SHARED_CREDENTIALS_FILE", "/home/op/.aliyun/config.json"),
        ]);
        assert_eq!(
            default_locations(home, get),
            [
                ImportSource::AliyunCli { path: home.join(".aliyun/config.json") },
                ImportSource::CredentialsFile { path: home.join("secrets/alibaba.ini") },
            ]
        );
    }

    #[test]
    fn read_all_reads_what_exists() {
        let home = std::env::temp_dir().join(format!("imagedesk-profiles-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&home);
        std::fs::create_dir_all(home.join(".aliyun")).unwrap();
        std::fs::create_dir_all(home.join(".alibabacloud")).unwrap();
        std::fs::create_dir_all(home.join("tf")).unwrap();
        std::fs::write(home.join(".aliyun/config.json"), CLI_EVERY_MODE).unwrap();
        std::fs::write(home.join(".alibabacloud/credentials.ini"), "[broken\n").unwrap();
        // Terraform-style: the credentials-file variable points at a CLI-format JSON file.
        std::fs::write(home.join("tf/creds.json"), r#"{"profiles": [{"name": "tf", "mode": "AK"}]}"#)
            .unwrap();

        let scan = read_all(&home, env(&[("ALIBABA_CLOUD_ECS_METADATA", "ImageRole")]));
        assert_eq!(scan.profiles.len(), 16);
        assert_eq!(scan.profiles.last().map(|p| p.source.clone()), Some(ImportSource::Environment));
        assert_eq!(scan.errors.len(), 1, "only the broken INI; the missing file is no error");
        assert!(matches!(scan.errors[0], ImportError::Ini { line: 1, .. }));
        assert_eq!(scan.searched.len(), 3);

        let tf_file = home.join("tf/creds.json");
        let tf_file = tf_file.to_string_lossy();
        let scan = read_all(&home, env(&[("ALIBABA_CLOUD_CREDENTIALS_FILE", &tf_file)]));
        assert_eq!(scan.profiles.last().map(|p| p.name.as_str()), Some("tf"));
        assert!(scan.errors.is_empty(), "{:?}", scan.errors);
        assert_no_secret_shown(&format!("{:?}", scan.profiles));

        std::fs::remove_dir_all(&home).unwrap();
    }
}
