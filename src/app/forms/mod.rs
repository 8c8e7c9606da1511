//! Form state for the image-creating windows: E-HPC Instant AddImage, ECS CreateImage (also
//! Apsara Stack), ENS ImportImage and ECS ImportImage. Pure state: no egui, no I/O. Every form
//! validates through the shared rule table ([`validate::validate`]) on the exact parameters it
//! would send, adds a few form-level checks the table cannot make, and renders the equivalent
//! aliyun CLI command.
//!
//! Field names are wire names (`ImageName`, `Tag.2.Key`, `DiskDeviceMapping.1.OSSObject`,
//! `ContainerImageSpec.RegistryUrl`), so a [`FieldError`] from the table lands under the right
//! widget. List rows are 0-based in the forms and `N = index + 1` on the wire.

pub mod add_image;
pub mod create_image;
pub mod ecs_import;
pub mod ens_import;

use std::collections::BTreeSet;

use crate::protocol::ops::ecs::Tag;
use crate::protocol::params::Params;
use crate::protocol::validate::{self, Check, FieldError, Operation};

/// Which fields the user edited, and whether the form was submitted: an error shows under a
/// field only from then on, so a fresh form is not covered in red.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Touch {
    touched: BTreeSet<String>,
    pub submitted: bool,
}

impl Touch {
    /// Mark a field (wire name) edited.
    pub fn touch(&mut self, field: impl Into<String>) {
        self.touched.insert(field.into());
    }

    pub fn is_touched(&self, field: &str) -> bool {
        self.touched.contains(field)
    }

    /// Dry run / Apply was pressed: every error shows from now on.
    pub fn submit(&mut self) {
        self.submitted = true;
    }

    /// Whether `field`'s error may be on screen.
    pub fn shows(&self, field: &str) -> bool {
        self.submitted || self.is_touched(field)
    }

    /// The error to show under `field`, if it may show.
    pub fn error_for<'a>(&self, errors: &'a [FieldError], field: &str) -> Option<&'a FieldError> {
        errors.iter().find(|e| e.field == field).filter(|_| self.shows(field))
    }

    /// Row `index` (0-based) of `list` was removed: forget its fields and move the touched
    /// state of later rows up one, so it stays with the row the user edited.
    pub fn remove_row(&mut self, list: &str, index: usize) {
        let removed = index + 1;
        let old = std::mem::take(&mut self.touched);
        for name in old {
            let Some((n, rest)) = split_list_name(&name, list) else {
                self.touched.insert(name);
                continue;
            };
            if n == removed {
                continue;
            }
            let n = if n > removed { n - 1 } else { n };
            self.touched.insert(format!("{list}.{n}{rest}"));
        }
    }
}

/// Append an empty row unless `max` rows are there already.
pub fn push_row<T: Default>(rows: &mut Vec<T>, max: usize) -> bool {
    if rows.len() >= max {
        return false;
    }
    rows.push(T::default());
    true
}

/// Remove row `index` (0-based) of the wire list `list`; the touched state of later rows moves
/// up with them.
pub fn remove_row<T>(rows: &mut Vec<T>, touch: &mut Touch, list: &str, index: usize) {
    if index < rows.len() {
        rows.remove(index);
        touch.remove_row(list, index);
    }
}

/// `("Tag.3.Key", "Tag")` → `(3, ".Key")`.
fn split_list_name<'a>(name: &'a str, list: &str) -> Option<(usize, &'a str)> {
    let rest = name.strip_prefix(list)?.strip_prefix('.')?;
    let end = rest.find('.').unwrap_or(rest.len());
    let n = rest[..end].parse().ok()?;
    Some((n, &rest[end..]))
}

/// Wire name of a field of row `index` (0-based) of `list`: `list_field("Tag", 0, "Key")` →
/// `Tag.1.Key`.
pub fn list_field(list: &str, index: usize, sub: &str) -> String {
    format!("{list}.{}.{sub}", index + 1)
}

/// POSIX shell quoting: bare when safe, else single quotes (with `'` written as `'\''`).
pub fn shell_quote(value: &str) -> String {
    let safe = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '/' | '=' | ','));
    if safe { value.to_owned() } else { format!("'{}'", value.replace('\'', "'\\''")) }
}

/// The equivalent aliyun CLI command: `aliyun <product> <Action> --Name value …`, each value
/// POSIX-quoted. `product` is the CLI's product name (`ecs`, `ens`, `ehpcinstant`).
pub fn cli_line(product: &str, action: &str, params: &Params) -> String {
    let mut line = format!("aliyun {product} {action}");
    for (name, value) in params.iter() {
        line.push_str(&format!(" --{name} {}", shell_quote(value)));
    }
    line
}

/// [`cli_line`] for a product whose region only picks the endpoint (no `RegionId` parameter):
/// the CLI's global `--region` flag comes first; an empty region leaves it to the CLI profile.
pub fn cli_line_in_region(product: &str, action: &str, region: &str, params: &Params) -> String {
    let region = region.trim();
    if region.is_empty() {
        return cli_line(product, action, params);
    }
    let mut with_region = Params::new();
    with_region.insert("region", region);
    with_region.extend(params);
    cli_line(product, action, &with_region)
}

/// The values the rule table allows for `field` of `op` (combo-box options); empty when the
/// field is free text. Read from the table so forms never keep their own copy of a list.
pub fn choices(op: Operation, field: &str) -> &'static [&'static str] {
    match validate::rule_for(op, field).map(|rule| rule.check) {
        Some(Check::OneOf(values) | Check::OneOfIgnoreCase(values)) => values,
        _ => &[],
    }
}

/// `Some(trimmed)` unless blank: empty fields are not sent ("empty ⇒ API default").
fn text(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

/// Wire parameters of a request (the request types always serialize; `to_params` fails only on
/// a programming error, which then shows as missing-parameter errors rather than a panic).
fn params_of<T: serde::Serialize>(request: &T) -> Params {
    crate::protocol::params::to_params(request).unwrap_or_default()
}

/// A number field whose text does not parse is validated as typed, so the table's own
/// `int.parse` / `int.range` message names the problem.
fn keep_unparsed(params: &mut Params, field: &str, typed: &str) {
    let typed = typed.trim();
    if !typed.is_empty() && typed.parse::<u32>().is_err() {
        params.insert(field, typed);
    }
}

/// `Tag.N` takes N from 1 to 20 (ECS CreateImage and ImportImage).
pub const MAX_TAGS: usize = 20;

/// One tag row of a form (`Tag.N.Key` / `Tag.N.Value`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TagRow {
    pub key: String,
    pub value: String,
}

/// Tags as sent: row `i` is `Tag.{i+1}`; a blank row sends nothing (and is reported by
/// [`blank_rows`], so no gap ever reaches the API).
fn tags_request(rows: &[TagRow]) -> Vec<Tag> {
    rows.iter().map(|row| Tag { key: row.key.trim().to_owned(), value: text(&row.value) }).collect()
}

/// Rows that send nothing would leave a gap in `list.N`: each gets an error on `list.N.sub`
/// unless something is already reported there.
fn blank_rows(params: &Params, list: &str, rows: usize, sub: &str, errors: &mut Vec<FieldError>) {
    let present = params.list_indices(list);
    for index in 0..rows {
        let n = index + 1;
        let field = list_field(list, index, sub);
        let sent = present.iter().any(|p| usize::try_from(*p).is_ok_and(|p| p == n));
        if !sent && !errors.iter().any(|e| e.field == field) {
            errors.push(FieldError {
                field,
                rule: "form.blank_row",
                code: "MissingParameter",
                en: format!("Row {n} of {list} is empty: fill it in or remove the row."),
                zh: format!("{list} 的第 {n} 行为空：请填写或删除该行。"),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quoting_leaves_safe_words_bare_and_quotes_the_rest() {
        assert_eq!(shell_quote("cn-hangzhou"), "cn-hangzhou");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("中文"), "'中文'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
    }

    #[test]
    fn errors_show_only_after_touch_or_submit() {
        let errors = vec![FieldError {
            field: "ImageName".into(),
            rule: "r",
            code: "c",
            en: "e".into(),
            zh: "中".into(),
        }];
        let mut touch = Touch::default();
        assert!(touch.error_for(&errors, "ImageName").is_none());
        touch.touch("ImageName");
        assert_eq!(touch.error_for(&errors, "ImageName").map(|e| e.rule), Some("r"));
        assert!(touch.error_for(&errors, "Description").is_none(), "no error there");
        let mut fresh = Touch::default();
        fresh.submit();
        assert!(fresh.shows("Anything") && fresh.error_for(&errors, "ImageName").is_some());
    }

    #[test]
    fn removing_a_row_moves_later_touches_up() {
        let mut touch = Touch::default();
        for name in ["Tag.1.Key", "Tag.2.Value", "Tag.3.Key", "Tag.12.Key", "TagX.2.Key", "ImageName"] {
            touch.touch(name);
        }
        touch.remove_row("Tag", 1);
        let mut now: Vec<&str> = touch.touched.iter().map(String::as_str).collect();
        now.sort_unstable();
        assert_eq!(now, ["ImageName", "Tag.1.Key", "Tag.11.Key", "Tag.2.Key", "TagX.2.Key"]);
    }

    #[test]
    fn cli_lines_quote_every_value() {
        let params = Params::from_pairs([("Name", "a b"), ("Spec", r#"{"K":"v"}"#), ("Id", "m-1")]);
        assert_eq!(
            cli_line("ecs", "Act", &params),
            r#"aliyun ecs Act --Name 'a b' --Spec '{"K":"v"}' --Id m-1"#
        );
        assert_eq!(
            cli_line_in_region("ehpcinstant", "AddImage", " cn-hangzhou ", &params),
            r#"aliyun ehpcinstant AddImage --region cn-hangzhou --Name 'a b' --Spec '{"K":"v"}' --Id m-1"#
        );
        assert_eq!(cli_line_in_region("x", "Y", "", &Params::new()), "aliyun x Y");
    }

    #[test]
    fn choices_come_from_the_rule_table() {
        assert_eq!(choices(Operation::EcsImportImage, "BootMode"), ["BIOS", "UEFI"]);
        assert_eq!(choices(Operation::EcsCreateImage, "BootMode"), ["BIOS", "UEFI", "UEFI-Preferred"]);
        assert_eq!(
            choices(Operation::EcsImportImage, "DiskDeviceMapping.3.Format"),
            ["RAW", "VHD", "QCOW2", "VMDK"]
        );
        assert!(choices(Operation::EcsImportImage, "ImageName").is_empty());
    }

    #[test]
    fn blank_rows_are_reported_once() {
        let params = Params::from_pairs([("Tag.1.Key", "a"), ("Tag.3.Key", "c")]);
        let mut errors = Vec::new();
        blank_rows(&params, "Tag", 4, "Key", &mut errors);
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["Tag.2.Key", "Tag.4.Key"]);
        blank_rows(&params, "Tag", 4, "Key", &mut errors);
        assert_eq!(errors.len(), 2, "an error already on the field is not repeated");
        assert!(errors[0].zh.contains("第 2 行"));
    }
}
