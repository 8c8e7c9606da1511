//! The "Add image to E-HPC Instant" form (AddImage, seed 000, apis.md §3.1): register an ECS
//! image (VM) or a container image from ACR Personal, ACR Enterprise or another registry.
//!
//! E-HPC Instant has no `RegionId` parameter (the region picks the endpoint) and AddImage has no
//! `DryRun`, so this form has no dry run. Wire names of its fields: `Name`, `ImageVersion`,
//! `Description`, `ImageType`, `VMImageSpec.ImageId`, `ContainerImageSpec.RegistryUrl`,
//! `ContainerImageSpec.RegistryCriId`, `ContainerImageSpec.RegistryCredential.Server`,
//! `….UserName`, `….Password`; the region is `RegionId` (form-level only).

use super::{Touch, cli_line_in_region, params_of, text};
use crate::protocol::ops::ehpc::{AddImage, ContainerImageSpec, ImageType, RegistryCredential, VmImageSpec};
use crate::protocol::params::{JsonString, Params};
use crate::protocol::validate::{self, Context, FieldError, Operation};
use crate::secret::Secret;

/// What `cli_command` shows instead of the registry password.
pub const PASSWORD_PLACEHOLDER: &str = "<password>";

/// Field names (wire names inside the JSON-string parameters).
pub const VM_IMAGE_ID: &str = "VMImageSpec.ImageId";
pub const REGISTRY_URL: &str = "ContainerImageSpec.RegistryUrl";
pub const REGISTRY_CRI_ID: &str = "ContainerImageSpec.RegistryCriId";
pub const REGISTRY_SERVER: &str = "ContainerImageSpec.RegistryCredential.Server";
pub const REGISTRY_USER: &str = "ContainerImageSpec.RegistryCredential.UserName";
pub const REGISTRY_PASSWORD: &str = "ContainerImageSpec.RegistryCredential.Password";
/// The endpoint region (not a wire parameter of E-HPC Instant).
pub const REGION: &str = "RegionId";

/// Kind of image to register.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AddImageKind {
    /// An ECS custom image (`VMImageSpec`).
    #[default]
    Vm,
    /// A container image (`ContainerImageSpec`).
    Container,
}

/// Where a container image is pulled from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RegistryKind {
    /// ACR Personal Edition (`IsACRRegistry=true`).
    #[default]
    AcrPersonal,
    /// ACR Enterprise Edition: also needs the instance ID `cri-…`.
    AcrEnterprise,
    /// Any other registry (`IsACRRegistry=false`), with its login when it is private.
    Private,
}

/// AddImage form state. `Debug` never shows the password (it is a [`Secret`]).
#[derive(Clone, Debug, Default)]
pub struct AddImageForm {
    /// Endpoint region (`ehpcinstant.<region>.aliyuncs.com`).
    pub region: String,
    pub kind: AddImageKind,
    pub name: String,
    pub version: String,
    pub description: String,
    /// VM: the ECS image (`m-…`), typed or picked from the inventory ([`Self::set_vm_image`]).
    pub vm_image_id: String,
    /// Container: `registry-vpc.cn-hangzhou.aliyuncs.com/ns/repo:tag`.
    pub registry_url: String,
    pub registry: RegistryKind,
    /// ACR Enterprise instance ID.
    pub cri_id: String,
    /// Private registry login: all three, or none for anonymous pulls.
    pub server: String,
    pub user_name: String,
    pub password: Secret,
    pub touch: Touch,
}

impl AddImageForm {
    pub fn new(region: impl Into<String>) -> Self {
        Self { region: region.into(), ..Self::default() }
    }

    /// Register this ECS image (picked in the inventory) as a VM image.
    pub fn set_vm_image(&mut self, image_id: impl Into<String>) {
        self.kind = AddImageKind::Vm;
        self.vm_image_id = image_id.into();
        self.touch.touch(VM_IMAGE_ID);
    }

    /// The request, with the password (the only place it leaves its [`Secret`] is the
    /// serialized `ContainerImageSpec` of this request).
    pub fn request(&self) -> AddImage {
        self.build(self.password.clone())
    }

    /// Wire parameters (contain the password: never log them).
    pub fn params(&self) -> Params {
        params_of(&self.request())
    }

    fn build(&self, password: Secret) -> AddImage {
        let (image_type, vm_image_spec, container_image_spec) = match self.kind {
            AddImageKind::Vm => (
                ImageType::Vm,
                // Sent even when empty so the table reports `VMImageSpec.ImageId` as missing.
                Some(JsonString(VmImageSpec { image_id: self.vm_image_id.trim().to_owned() })),
                None,
            ),
            AddImageKind::Container => {
                (ImageType::Container, None, Some(JsonString(self.container_spec(password))))
            }
        };
        AddImage {
            region_id: self.region.trim().to_owned(),
            name: self.name.trim().to_owned(),
            image_type: Some(image_type),
            image_version: text(&self.version),
            description: text(&self.description),
            vm_image_spec,
            container_image_spec,
        }
    }

    fn container_spec(&self, password: Secret) -> ContainerImageSpec {
        let mut spec = ContainerImageSpec { registry_url: text(&self.registry_url), ..Default::default() };
        match self.registry {
            RegistryKind::AcrPersonal => {
                spec.is_acr_registry = Some(true);
                spec.is_acr_enterprise = Some(false);
            }
            RegistryKind::AcrEnterprise => {
                spec.is_acr_registry = Some(true);
                spec.is_acr_enterprise = Some(true);
                spec.registry_cri_id = text(&self.cri_id);
            }
            RegistryKind::Private => {
                spec.is_acr_registry = Some(false);
                if self.has_credential() {
                    spec.registry_credential = Some(RegistryCredential {
                        server: text(&self.server),
                        user_name: text(&self.user_name),
                        password: (!password.is_empty()).then_some(password),
                    });
                }
            }
        }
        spec
    }

    /// Any part of the private-registry login is filled in (then the table wants all of it).
    fn has_credential(&self) -> bool {
        !self.server.trim().is_empty() || !self.user_name.trim().is_empty() || !self.password.is_empty()
    }

    /// The rule table on the request, plus the region (needed to pick the endpoint).
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errors = validate::validate(Operation::EhpcAddImage, &self.params(), &Context::default());
        if self.region.trim().is_empty() {
            errors.push(FieldError {
                field: REGION.into(),
                rule: "form.region",
                code: "MissingParameter",
                en: "Choose the region: it selects the E-HPC Instant endpoint the image is added to.".into(),
                zh: "请选择地域：它决定镜像添加到哪个 E-HPC Instant 接入点。".into(),
            });
        }
        errors
    }

    /// The error to show under `field`, if it may show.
    pub fn error_for<'a>(&self, errors: &'a [FieldError], field: &str) -> Option<&'a FieldError> {
        self.touch.error_for(errors, field)
    }

    /// The equivalent aliyun CLI command. The registry password is never part of it: the JSON
    /// carries [`PASSWORD_PLACEHOLDER`] (`<password>`) instead, to be replaced by hand.
    pub fn cli_command(&self) -> String {
        let shown =
            if self.password.is_empty() { Secret::default() } else { Secret::new(PASSWORD_PLACEHOLDER) };
        let params = params_of(&self.build(shown));
        cli_line_in_region("ehpcinstant", "AddImage", &self.region, &params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(errors: &[FieldError]) -> Vec<(&str, &str)> {
        errors.iter().map(|e| (e.field.as_str(), e.rule)).collect()
    }

    fn private_form() -> AddImageForm {
        AddImageForm {
            kind: AddImageKind::Container,
            name: "app-image".into(),
            version: "V1.0".into(),
            registry_url: "reg.example.com/ns/app:1".into(),
            registry: RegistryKind::Private,
            server: "reg.example.com".into(),
            user_name: "bob".into(),
            password: Secret::new("s3cr'et pw"),
            ..AddImageForm::new("cn-hangzhou")
        }
    }

    #[test]
    fn vm_image_sends_exactly_the_spec() {
        let mut f = AddImageForm::new("cn-hangzhou");
        f.name = " app-image ".into();
        f.set_vm_image("m-bp1akkkr1rkxtb");
        assert!(f.touch.is_touched(VM_IMAGE_ID));
        assert_eq!(
            f.params().into_vec(),
            vec![
                ("Name".to_owned(), "app-image".to_owned()),
                ("ImageType".to_owned(), "VM".to_owned()),
                ("VMImageSpec".to_owned(), r#"{"ImageId":"m-bp1akkkr1rkxtb"}"#.to_owned()),
            ]
        );
        assert!(f.validate().is_empty(), "{:?}", f.validate());
        assert_eq!(
            f.cli_command(),
            r#"aliyun ehpcinstant AddImage --region cn-hangzhou --Name app-image --ImageType VM --VMImageSpec '{"ImageId":"m-bp1akkkr1rkxtb"}'"#
        );
    }

    #[test]
    fn vm_image_id_is_required_and_must_be_an_ecs_image() {
        let mut f = AddImageForm { name: "n".into(), ..AddImageForm::new("cn-hangzhou") };
        assert_eq!(rules(&f.validate()), [(VM_IMAGE_ID, "required.missing")]);
        f.vm_image_id = "img-1".into();
        let errors = f.validate();
        assert_eq!(rules(&errors), [(VM_IMAGE_ID, "id.prefix")]);
        assert!(f.error_for(&errors, VM_IMAGE_ID).is_none(), "untouched");
        f.touch.touch(VM_IMAGE_ID);
        let shown = f.error_for(&errors, VM_IMAGE_ID).map(|e| (e.en.clone(), e.zh.clone()));
        let (en, zh) = shown.unwrap_or_default();
        assert!(en.contains("'m-'") && zh.contains("'m-'"), "{en} / {zh}");
    }

    #[test]
    fn name_and_region_are_required() {
        let mut f = AddImageForm::new("");
        f.vm_image_id = "m-1".into();
        let errors = f.validate();
        assert_eq!(rules(&errors), [("Name", "required.missing"), (REGION, "form.region")]);
        assert!(errors[1].zh.contains("地域"));
        // Without a region the CLI falls back to the profile's.
        f.name = "n".into();
        assert!(f.cli_command().starts_with("aliyun ehpcinstant AddImage --Name n "));
    }

    #[test]
    fn acr_enterprise_needs_its_instance_id() {
        let mut f = AddImageForm {
            kind: AddImageKind::Container,
            name: "n".into(),
            registry_url: "r.cn-hangzhou.cr.aliyuncs.com/ns/app:1".into(),
            registry: RegistryKind::AcrEnterprise,
            ..AddImageForm::new("cn-hangzhou")
        };
        assert_eq!(rules(&f.validate()), [(REGISTRY_CRI_ID, "ehpc.cri_id_required")]);
        f.cri_id = "cri-1".into();
        assert!(f.validate().is_empty());
        assert_eq!(
            f.params().get("ContainerImageSpec"),
            Some(
                r#"{"RegistryUrl":"r.cn-hangzhou.cr.aliyuncs.com/ns/app:1","IsACRRegistry":true,"IsACREnterprise":true,"RegistryCriId":"cri-1"}"#
            )
        );
        f.registry = RegistryKind::AcrPersonal;
        assert_eq!(
            f.params().get("ContainerImageSpec"),
            Some(
                r#"{"RegistryUrl":"r.cn-hangzhou.cr.aliyuncs.com/ns/app:1","IsACRRegistry":true,"IsACREnterprise":false}"#
            ),
            "the enterprise instance ID is not sent for ACR Personal"
        );
        f.registry_url.clear();
        assert_eq!(rules(&f.validate()), [(REGISTRY_URL, "required.missing")]);
    }

    #[test]
    fn private_registry_sends_the_password_but_the_cli_never_shows_it() {
        let f = private_form();
        assert!(f.validate().is_empty(), "{:?}", f.validate());
        let spec = f.params().get("ContainerImageSpec").map(str::to_owned).unwrap_or_default();
        assert_eq!(
            spec,
            r#"{"RegistryUrl":"reg.example.com/ns/app:1","IsACRRegistry":false,"RegistryCredential":{"Server":"reg.example.com","UserName":"bob","Password":"s3cr'et pw"}}"#
        );
        let cli = f.cli_command();
        assert!(!cli.contains("s3cr"), "{cli}");
        assert_eq!(
            cli,
            concat!(
                "aliyun ehpcinstant AddImage --region cn-hangzhou --Name app-image --ImageType Container ",
                "--ImageVersion V1.0 --ContainerImageSpec ",
                r#"'{"RegistryUrl":"reg.example.com/ns/app:1","IsACRRegistry":false,"#,
                r#""RegistryCredential":{"Server":"reg.example.com","UserName":"bob","Password":"<password>"}}'"#
            )
        );
        let debug = format!("{f:?} {:?}", f.request());
        assert!(!debug.contains("s3cr"), "{debug}");
        assert!(debug.contains("***"));
    }

    #[test]
    fn a_partial_login_is_refused_and_an_anonymous_one_is_not() {
        let mut f = private_form();
        f.password = Secret::default();
        let errors = f.validate();
        assert_eq!(rules(&errors), [(REGISTRY_PASSWORD, "required.missing")]);
        assert!(!f.cli_command().contains(PASSWORD_PLACEHOLDER), "no password, no placeholder");
        f.server.clear();
        f.user_name.clear();
        assert!(f.validate().is_empty());
        assert_eq!(
            f.params().get("ContainerImageSpec"),
            Some(r#"{"RegistryUrl":"reg.example.com/ns/app:1","IsACRRegistry":false}"#)
        );
    }

    #[test]
    fn errors_never_echo_the_password() {
        let mut f = private_form();
        f.user_name.clear();
        f.registry_url.clear();
        let errors = f.validate();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors.iter().all(|e| !e.en.contains("s3cr") && !e.zh.contains("s3cr")));
    }
}
