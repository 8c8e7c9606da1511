//! The "Modify image" form (ECS ModifyImageAttribute): prefilled from the image, sends only what
//! changed, validated by the shared rule table as you type, with dry run and the equivalent
//! aliyun CLI command.

use super::forms::Touch;
use super::model::{Detail, ImageRow, Status};
use crate::protocol::ops::ecs::{BootMode, FeatureParams, ImageStatus, ImdsSupport, ModifyImageAttribute};
use crate::protocol::params::{Params, to_params};
use crate::protocol::validate::{self, Context, FieldError, Operation};

/// The editable attributes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModifyValues {
    pub name: String,
    pub description: String,
    pub family: String,
    /// `BIOS`, `UEFI`, `UEFI-Preferred` or empty (unknown).
    pub boot_mode: String,
    /// `v1`, `v2` or empty (unknown).
    pub imds: String,
    pub deprecated: bool,
}

#[derive(Clone, Debug)]
pub struct ModifyForm {
    pub region: String,
    pub image_id: String,
    original: ModifyValues,
    pub values: ModifyValues,
    /// Which fields the user edited and whether Apply / Dry run was pressed.
    pub touch: Touch,
    /// Deprecating the last Available image of its family needs the image's name typed here.
    pub confirmation: String,
    /// Whether this is the family's last Available image (known from the inventory).
    pub last_of_family: bool,
}

impl ModifyForm {
    /// A form for an ECS image; `None` for other products.
    pub fn from_row(row: &ImageRow, last_of_family: bool) -> Option<Self> {
        let Detail::Ecs(image) = row.detail.as_ref() else { return None };
        let original = ModifyValues {
            name: image.image_name.clone(),
            description: image.description.clone(),
            family: image.image_family.clone(),
            boot_mode: image.boot_mode.clone(),
            imds: image.features.imds_support.clone(),
            deprecated: row.status == Status::Deprecated,
        };
        Some(Self {
            region: row.region.clone(),
            image_id: row.id.clone(),
            values: original.clone(),
            original,
            touch: Touch::default(),
            confirmation: String::new(),
            last_of_family,
        })
    }

    /// The request with only the changed attributes (and `DryRun` when asked).
    pub fn request(&self, dry_run: bool) -> ModifyImageAttribute {
        let (now, was) = (&self.values, &self.original);
        let changed = |a: &String, b: &String| (a != b).then(|| a.trim().to_owned());
        let imds = changed(&now.imds, &was.imds).and_then(|v| match v.as_str() {
            "v1" => Some(ImdsSupport::V1),
            "v2" => Some(ImdsSupport::V2),
            _ => None,
        });
        ModifyImageAttribute {
            region_id: self.region.clone(),
            image_id: self.image_id.clone(),
            image_name: changed(&now.name, &was.name),
            description: changed(&now.description, &was.description),
            image_family: changed(&now.family, &was.family),
            boot_mode: changed(&now.boot_mode, &was.boot_mode).map(|b| BootMode::parse(&b)),
            status: (now.deprecated != was.deprecated).then_some(if now.deprecated {
                ImageStatus::Deprecated
            } else {
                ImageStatus::Available
            }),
            features: imds.map(|imds| FeatureParams { imds_support: Some(imds), ..FeatureParams::default() }),
            dry_run: dry_run.then_some(true),
            ..ModifyImageAttribute::default()
        }
    }

    pub fn params(&self, dry_run: bool) -> Params {
        to_params(&self.request(dry_run)).unwrap_or_default()
    }

    /// Whether anything differs from the image.
    pub fn changed(&self) -> bool {
        self.values != self.original
    }

    /// Every rule the changed attributes break (the shared table, as the API applies it), plus
    /// the family confirmation.
    pub fn validate(&self) -> Vec<FieldError> {
        let context = Context {
            current_imds_support: Some(self.original.imds.clone()).filter(|v| !v.is_empty()),
            ..Context::default()
        };
        let mut errors =
            validate::validate(Operation::EcsModifyImageAttribute, &self.params(false), &context);
        if self.needs_confirmation() && self.confirmation.trim() != self.original.name {
            errors.push(FieldError {
                field: "Status".into(),
                rule: "deprecate.last_of_family",
                code: "ConfirmationRequired",
                en: format!(
                    "This is the last Available image of family {:?}: new instances of the family would have no image. Type the image name to confirm.",
                    self.original.family
                ),
                zh: format!("这是镜像族系 {:?} 中最后一个可用镜像：该族系的新实例将没有镜像可用。请输入镜像名称以确认。", self.original.family),
            });
        }
        errors
    }

    /// Deprecating the family's last Available image.
    pub fn needs_confirmation(&self) -> bool {
        self.values.deprecated
            && !self.original.deprecated
            && self.last_of_family
            && !self.original.family.is_empty()
    }

    /// The error to show under `field`, if it may show.
    pub fn error_for<'a>(&self, errors: &'a [FieldError], field: &str) -> Option<&'a FieldError> {
        self.touch.error_for(errors, field)
    }

    /// The equivalent aliyun CLI command (no secrets are ever part of it).
    pub fn cli_command(&self, dry_run: bool) -> String {
        super::forms::cli_line("ecs", "ModifyImageAttribute", &self.params(dry_run))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ops::ecs;

    fn form() -> ModifyForm {
        let image = ecs::Image {
            image_id: "m-1".into(),
            image_name: "web-base".into(),
            image_family: "web".into(),
            boot_mode: "BIOS".into(),
            status: "Available".into(),
            features: ecs::ImageFeatures { imds_support: "v2".into(), ..Default::default() },
            ..Default::default()
        };
        ModifyForm::from_row(&ImageRow::from_ecs("cn-hangzhou", image), true).unwrap()
    }

    #[test]
    fn only_changed_attributes_are_sent() {
        let mut f = form();
        assert!(!f.changed());
        let p = f.params(false);
        assert_eq!(p.iter().map(|(k, _)| k).collect::<Vec<_>>(), ["RegionId", "ImageId"]);
        f.values.description = "new text".into();
        let p = f.params(true);
        assert_eq!(p.get("Description"), Some("new text"));
        assert_eq!(p.get("DryRun"), Some("true"));
        assert_eq!(p.get("ImageName"), None);
    }

    #[test]
    fn the_rule_table_checks_what_is_typed() {
        let mut f = form();
        f.values.name = "1-bad".into();
        let errors = f.validate();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "ImageName");
        assert!(f.error_for(&errors, "ImageName").is_none(), "not touched yet");
        f.touch.touch("ImageName");
        assert!(f.error_for(&errors, "ImageName").is_some());
        f.values.name = "web-base".into();
        f.values.imds = "v1".into();
        let errors = f.validate();
        assert!(errors.iter().any(|e| e.field == "Features.ImdsSupport"), "v2 to v1 is refused: {errors:?}");
    }

    #[test]
    fn deprecating_the_last_of_a_family_needs_the_name_typed() {
        let mut f = form();
        f.values.deprecated = true;
        assert!(f.validate().iter().any(|e| e.rule == "deprecate.last_of_family"));
        f.confirmation = "web-base".into();
        assert!(f.validate().is_empty());
        assert_eq!(f.params(false).get("Status"), Some("Deprecated"));
    }

    #[test]
    fn the_cli_command_is_exact_and_quoted() {
        let mut f = form();
        f.values.description = "it's new".into();
        f.values.family = "web-v2".into();
        assert_eq!(
            f.cli_command(true),
            "aliyun ecs ModifyImageAttribute --RegionId cn-hangzhou --ImageId m-1 --Description 'it'\\''s new' --ImageFamily web-v2 --DryRun true"
        );
    }
}
