//! The profile form's state: what was typed, which fields were touched, and a pure `validate()`
//! built from [`crate::profiles::validate`]. Secrets are kept as typed (the field must be
//! editable) and become [`Secret`]s only in the [`ProfileDraft`] handed to the worker.

use std::collections::{BTreeMap, BTreeSet};

use crate::Secret;
use crate::client::{Profile, RequestStyle, Tenancy};
use crate::profiles::validate::{self, Problem};
use crate::profiles::{CredentialSpec, ProfileKind, ProfileRecord};

/// How the form's profile authenticates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FormMode {
    #[default]
    AccessKey,
    StsToken,
    RamRoleArn,
    EcsRamRole,
}

impl FormMode {
    pub const ALL: [FormMode; 4] = [Self::AccessKey, Self::StsToken, Self::RamRoleArn, Self::EcsRamRole];

    /// Mode names are API terms, the same in both languages.
    pub fn label(self) -> &'static str {
        match self {
            Self::AccessKey => "AccessKey",
            Self::StsToken => "STS token",
            Self::RamRoleArn => "RamRoleArn (AssumeRole)",
            Self::EcsRamRole => "EcsRamRole",
        }
    }

    fn uses_access_key(self) -> bool {
        self != Self::EcsRamRole
    }
}

/// Apsara Stack request style, as offered in the form.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ApsaraStyle {
    #[default]
    Asapi,
    Route,
    Rpc,
}

impl ApsaraStyle {
    pub const ALL: [ApsaraStyle; 3] = [Self::Asapi, Self::Route, Self::Rpc];

    pub fn label(self) -> &'static str {
        match self {
            Self::Asapi => "ASAPI (/asapi/v3)",
            Self::Route => "Route (/apsara/route/…)",
            Self::Rpc => "RPC (per-product endpoint)",
        }
    }
}

/// The form's fields, for errors and "touched".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    Name,
    AccessKeyId,
    Secret,
    Token,
    RoleArn,
    SessionName,
    Duration,
    RoleName,
    Region,
    Endpoint,
    CaCertificate,
}

/// A profile ready to test or save: the record plus its secrets.
#[derive(Clone, Debug)]
pub struct ProfileDraft {
    pub record: ProfileRecord,
    pub secret: Option<Secret>,
    pub token: Option<Secret>,
}

#[derive(Clone)]
pub struct ProfileForm {
    pub name: String,
    pub kind: ProfileKind,
    pub mode: FormMode,
    pub access_key_id: String,
    pub access_key_secret: String,
    pub reveal_secret: bool,
    pub security_token: String,
    pub role_arn: String,
    pub session_name: String,
    pub duration: String,
    pub role_name: String,
    pub region: String,
    pub endpoint: String,
    pub apsara_style: ApsaraStyle,
    pub organization_id: String,
    pub resource_group_id: String,
    pub ca_certificate: String,
    pub allow_http: bool,
    /// Fields the user has edited (errors show only there until a submit).
    pub touched: BTreeSet<Field>,
    /// A submit was attempted: show every error.
    pub submitted: bool,
}

/// Like a derived `Debug`, with the secret fields masked.
impl std::fmt::Debug for ProfileForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let masked = |text: &str| if text.is_empty() { "" } else { "***" };
        f.debug_struct("ProfileForm")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("mode", &self.mode)
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &masked(&self.access_key_secret))
            .field("security_token", &masked(&self.security_token))
            .field("role_arn", &self.role_arn)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("touched", &self.touched)
            .finish_non_exhaustive()
    }
}

impl Default for ProfileForm {
    fn default() -> Self {
        Self {
            name: String::new(),
            kind: ProfileKind::AlibabaCloud,
            mode: FormMode::AccessKey,
            access_key_id: String::new(),
            access_key_secret: String::new(),
            reveal_secret: false,
            security_token: String::new(),
            role_arn: String::new(),
            session_name: "imagedesk".into(),
            duration: "3600".into(),
            role_name: String::new(),
            region: "cn-hangzhou".into(),
            endpoint: String::new(),
            apsara_style: ApsaraStyle::Asapi,
            organization_id: String::new(),
            resource_group_id: String::new(),
            ca_certificate: String::new(),
            allow_http: false,
            touched: BTreeSet::new(),
            submitted: false,
        }
    }
}

impl ProfileForm {
    /// Every problem, by field. `taken` are the names other profiles already use.
    pub fn validate(&self, taken: &[String]) -> BTreeMap<Field, Problem> {
        let mut problems = BTreeMap::new();
        let mut check = |field, problem: Option<Problem>| {
            if let Some(problem) = problem {
                problems.insert(field, problem);
            }
        };
        check(Field::Name, name_problem(&self.name, taken));
        if self.mode.uses_access_key() {
            check(
                Field::AccessKeyId,
                validate::access_key_id(&self.access_key_id, self.mode == FormMode::StsToken),
            );
            check(Field::Secret, validate::access_key_secret(&self.access_key_secret));
        }
        match self.mode {
            FormMode::StsToken if self.security_token.trim().is_empty() => check(
                Field::Token,
                Some(Problem {
                    en: "Paste the STS security token that came with the temporary key.".into(),
                    zh: "请粘贴与临时密钥一同获得的 STS 安全令牌。".into(),
                }),
            ),
            FormMode::RamRoleArn => {
                check(Field::RoleArn, validate::role_arn(&self.role_arn));
                check(Field::SessionName, validate::session_name(&self.session_name));
                check(Field::Duration, validate::duration_secs(&self.duration));
            }
            FormMode::EcsRamRole if self.role_name.trim().is_empty() => check(
                Field::RoleName,
                Some(Problem {
                    en: "Name the RAM role attached to this ECS instance.".into(),
                    zh: "请填写绑定到此 ECS 实例的 RAM 角色名称。".into(),
                }),
            ),
            _ => {}
        }
        check(Field::Region, validate::region_id(self.region.trim()));
        let endpoint = self.endpoint.trim();
        if self.kind == ProfileKind::ApsaraStack && endpoint.is_empty() {
            check(
                Field::Endpoint,
                Some(Problem {
                    en: "An Apsara Stack profile needs its gateway endpoint (https://…).".into(),
                    zh: "专有云配置需要填写网关 Endpoint（https://…）。".into(),
                }),
            );
        } else if !endpoint.is_empty() {
            check(Field::Endpoint, validate::endpoint(endpoint, self.allow_http));
        }
        let ca = self.ca_certificate.trim();
        if !ca.is_empty() && !std::path::Path::new(ca).is_absolute() {
            check(
                Field::CaCertificate,
                Some(Problem {
                    en: "Give the full path of the CA certificate file (PEM).".into(),
                    zh: "请填写 CA 证书文件（PEM）的完整路径。".into(),
                }),
            );
        }
        problems
    }

    /// Mark a field edited (its error may show from now on).
    pub fn touch(&mut self, field: Field) {
        self.touched.insert(field);
    }

    /// Whether `field`'s error should be on screen.
    pub fn shows(&self, field: Field) -> bool {
        self.submitted || self.touched.contains(&field)
    }

    /// The record and secrets, if the form is valid.
    pub fn draft(&self, taken: &[String]) -> Result<ProfileDraft, BTreeMap<Field, Problem>> {
        let problems = self.validate(taken);
        if !problems.is_empty() {
            return Err(problems);
        }
        let id = self.access_key_id.trim().to_owned();
        let credential = match self.mode {
            FormMode::AccessKey => CredentialSpec::AccessKey { access_key_id: id },
            FormMode::StsToken => CredentialSpec::StsToken { access_key_id: id },
            FormMode::RamRoleArn => CredentialSpec::RamRoleArn {
                access_key_id: id,
                role_arn: self.role_arn.trim().to_owned(),
                session_name: self.session_name.trim().to_owned(),
                duration_secs: self.duration.trim().parse().unwrap_or(3600),
                external_id: None,
                policy: None,
            },
            FormMode::EcsRamRole => {
                CredentialSpec::EcsRamRole { role_name: self.role_name.trim().to_owned() }
            }
        };
        let mut connection = Profile::new(self.name.trim(), self.region.trim());
        let endpoint = self.endpoint.trim();
        if !endpoint.is_empty() {
            connection.endpoint = Some(endpoint.to_owned());
        }
        connection.allow_insecure_http = self.allow_http;
        if self.kind == ProfileKind::ApsaraStack {
            let tenancy = Tenancy {
                organization_id: Some(self.organization_id.trim().to_owned()).filter(|v| !v.is_empty()),
                resource_group_id: Some(self.resource_group_id.trim().to_owned()).filter(|v| !v.is_empty()),
                region_id: Some(self.region.trim().to_owned()),
                caller_sdk_source: None,
            };
            connection.style = match self.apsara_style {
                ApsaraStyle::Asapi => RequestStyle::Asapi(tenancy),
                ApsaraStyle::Route => RequestStyle::ApsaraRoute {
                    path_template: crate::client::endpoint::DEFAULT_APSARA_ROUTE.to_owned(),
                    tenancy,
                },
                ApsaraStyle::Rpc => RequestStyle::Rpc,
            };
        }
        let ca = self.ca_certificate.trim();
        let record = ProfileRecord {
            kind: self.kind,
            credential,
            connection,
            ca_certificate: (!ca.is_empty()).then(|| ca.into()),
        };
        let uses_key = self.mode.uses_access_key();
        Ok(ProfileDraft {
            secret: uses_key.then(|| Secret::new(self.access_key_secret.clone())),
            token: (self.mode == FormMode::StsToken)
                .then(|| Secret::new(self.security_token.trim().to_owned())),
            record,
        })
    }
}

fn name_problem(name: &str, taken: &[String]) -> Option<Problem> {
    let name = name.trim();
    if name.is_empty() {
        return Some(Problem { en: "Give the profile a name.".into(), zh: "请为配置命名。".into() });
    }
    if name.chars().count() > 64 || name.chars().any(|c| c.is_control() || c == '/') {
        return Some(Problem {
            en: "A profile name has at most 64 characters and no `/`.".into(),
            zh: "配置名称最多 64 个字符，且不能包含 `/`。".into(),
        });
    }
    if taken.iter().any(|t| t == name) {
        return Some(Problem {
            en: "Another profile already has this name.".into(),
            zh: "已有同名的配置。".into(),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled() -> ProfileForm {
        ProfileForm {
            name: "prod".into(),
            access_key_id: "LTAI5tExampleExample0123".into(),
            access_key_secret: "abcdefghijABCDEFGHIJ0123456789".into(),
            ..ProfileForm::default()
        }
    }

    #[test]
    fn a_filled_access_key_form_is_valid_and_drafts_a_record_without_the_secret() {
        let draft = filled().draft(&[]).unwrap();
        assert_eq!(draft.record.name(), "prod");
        assert_eq!(draft.secret.as_ref().map(Secret::expose), Some("abcdefghijABCDEFGHIJ0123456789"));
        let saved = serde_json::to_string(&draft.record).unwrap();
        assert!(!saved.contains("abcdefghijABCDEFGHIJ0123456789"), "the record never holds the secret");
        assert!(saved.contains("LTAI5tExampleExample0123"));
    }

    #[test]
    fn debug_output_masks_the_secrets() {
        let mut form = filled();
        form.security_token = "token-value-123".into();
        let text = format!("{form:?}");
        assert!(
            !text.contains("abcdefghijABCDEFGHIJ0123456789") && !text.contains("token-value-123"),
            "{text}"
        );
        assert!(text.contains("LTAI5tExampleExample0123"));
    }

    #[test]
    fn errors_show_only_for_touched_fields_until_submit() {
        let mut form = ProfileForm::default();
        let problems = form.validate(&[]);
        assert!(problems.contains_key(&Field::Name) && problems.contains_key(&Field::Secret));
        assert!(!form.shows(Field::Secret));
        form.touch(Field::Secret);
        assert!(form.shows(Field::Secret) && !form.shows(Field::Name));
        form.submitted = true;
        assert!(form.shows(Field::Name));
    }

    #[test]
    fn each_mode_asks_for_its_own_fields() {
        let mut form = filled();
        form.mode = FormMode::StsToken;
        let problems = form.validate(&[]);
        assert!(problems.contains_key(&Field::Token) && problems.contains_key(&Field::AccessKeyId));
        form.mode = FormMode::RamRoleArn;
        form.role_arn = "acs:ram::123456:role/x".into();
        assert!(form.validate(&[]).is_empty());
        form.duration = "60".into();
        assert!(form.validate(&[]).contains_key(&Field::Duration));
        form.mode = FormMode::EcsRamRole;
        form.access_key_id.clear();
        let problems = form.validate(&[]);
        assert_eq!(problems.keys().collect::<Vec<_>>(), [&Field::RoleName], "no key needed for EcsRamRole");
        assert!(form.clone().draft(&[]).is_err());
        form.role_name = "ecs-role".into();
        assert!(form.draft(&[]).unwrap().secret.is_none());
    }

    #[test]
    fn names_must_be_unique_and_apsara_needs_an_endpoint() {
        assert!(filled().validate(&["prod".into()]).contains_key(&Field::Name));
        let mut form = filled();
        form.kind = ProfileKind::ApsaraStack;
        assert!(form.validate(&[]).contains_key(&Field::Endpoint));
        form.endpoint = "http://asapi.corp.internal".into();
        assert!(form.validate(&[]).contains_key(&Field::Endpoint), "plain HTTP needs consent");
        form.allow_http = true;
        form.organization_id = "26".into();
        let draft = form.draft(&[]).unwrap();
        assert!(
            matches!(draft.record.connection.style, RequestStyle::Asapi(ref t) if t.organization_id.as_deref() == Some("26"))
        );
        assert!(draft.record.connection.allow_insecure_http);
    }
}
