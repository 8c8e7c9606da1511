//! The "Delete image" form: the image's name typed to confirm, the Force option explained, dry
//! run, the equivalent aliyun CLI command; an image still being imported offers cancelling its
//! import task instead.

use super::model::ImageRow;
use crate::protocol::ops::ecs::{CancelTask, DeleteImage};
use crate::protocol::params::to_params;

#[derive(Clone, Debug)]
pub struct DeleteForm {
    pub region: String,
    pub image_id: String,
    pub name: String,
    /// The running import task, when the image is still being imported.
    pub import_task: Option<String>,
    pub force: bool,
    pub confirmation: String,
}

impl DeleteForm {
    pub fn new(row: &ImageRow, import_task: Option<String>) -> Self {
        Self {
            region: row.region.clone(),
            image_id: row.id.clone(),
            name: row.name.clone(),
            import_task,
            force: false,
            confirmation: String::new(),
        }
    }

    /// The typed name matches the image's (exactly: a deletion cannot be undone).
    pub fn confirmed(&self) -> bool {
        self.confirmation == self.name
    }

    pub fn request(&self, dry_run: bool) -> DeleteImage {
        DeleteImage {
            region_id: self.region.clone(),
            image_id: self.image_id.clone(),
            force: self.force.then_some(true),
            dry_run: dry_run.then_some(true),
        }
    }

    pub fn cancel_request(&self) -> Option<CancelTask> {
        let task_id = self.import_task.clone()?;
        Some(CancelTask { region_id: self.region.clone(), task_id })
    }

    /// The equivalent aliyun CLI command.
    pub fn cli_command(&self, dry_run: bool) -> String {
        super::forms::cli_line("ecs", "DeleteImage", &to_params(&self.request(dry_run)).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ops::ecs;

    fn form() -> DeleteForm {
        let image =
            ecs::Image { image_id: "m-9".into(), image_name: "old build".into(), ..Default::default() };
        DeleteForm::new(&ImageRow::from_ecs("cn-beijing", image), None)
    }

    #[test]
    fn confirmation_is_the_exact_name() {
        let mut f = form();
        assert!(!f.confirmed());
        f.confirmation = "old build ".into();
        assert!(!f.confirmed());
        f.confirmation = "old build".into();
        assert!(f.confirmed());
    }

    #[test]
    fn the_request_and_cli_command_match() {
        let mut f = form();
        assert_eq!(f.cli_command(false), "aliyun ecs DeleteImage --RegionId cn-beijing --ImageId m-9");
        f.force = true;
        assert_eq!(
            f.cli_command(true),
            "aliyun ecs DeleteImage --RegionId cn-beijing --ImageId m-9 --Force true --DryRun true"
        );
        assert!(f.cancel_request().is_none());
        f.import_task = Some("t-1".into());
        assert_eq!(f.cancel_request().map(|c| c.task_id).as_deref(), Some("t-1"));
    }
}
