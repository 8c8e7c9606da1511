//! Hostile-input fuzzing (proptest) of everything that parses data ImageDesk does not control:
//! the request validators (operation tables, profile fields, forms), the JSON response and error
//! decoders, the OSS XML answers, the aliyun CLI config and credentials file readers, the
//! disk-image sniffer and the `Authorization` header parsers of the signing layer.
//!
//! Every target asserts real properties (round trips of valid documents, errors that name the
//! action or an existing field, secrets never echoed), never panics, and bounded allocation: a
//! counting global allocator ([`cap`]) caps the process at 1 GiB and each decoder call may
//! allocate at most [`CALL_ALLOCATION_BOUND`] bytes in total (the sum of its allocation sizes, a
//! realloc counting its new size: an upper bound on its peak), so a decoder that sizes a buffer
//! from a length field it read fails here.
//!
//! Cases per target come from `IMAGEDESK_FUZZ_CASES` (default [`DEFAULT_CASES`], a few seconds in
//! a debug build). The ≥ 1 M-case mode (bench/CI-optional):
//!
//! ```text
//! IMAGEDESK_FUZZ_CASES=1000000 cargo test --release --test fuzz -- --nocapture
//! ```
//!
//! Each target prints one summary line (cases, wall time, the most one call allocated, and the
//! process's peak live heap so far). Targets run one at a time (see [`SERIAL`]) so the
//! allocator's counters belong to one target.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cell::Cell;
use std::io::Cursor;
use std::path::Path;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use imagedesk::Secret;
use imagedesk::app::forms::TagRow;
use imagedesk::app::forms::add_image::{AddImageForm, AddImageKind, RegistryKind};
use imagedesk::app::forms::create_image::{CreateDiskRow, CreateImageForm, CreateSource};
use imagedesk::app::forms::ens_import::{EnsDiskRow, EnsImportForm, EnsSource};
use imagedesk::app::worker::parse_oss_listing;
use imagedesk::client::{ClientError, RawResponse, decode_json};
use imagedesk::jobs::sniff::{DiskKind, sniff_reader};
use imagedesk::jobs::upload::{
    CompleteResult, InitiateResult, ListPartsResult, ListUploadsResult, UploadError, parse_xml,
};
use imagedesk::profiles::import::{ImportError, parse_aliyun_cli_config, parse_credentials_file};
use imagedesk::profiles::validate as profile_validate;
use imagedesk::protocol::de::progress_percent;
use imagedesk::protocol::error::{
    Service, decode_oss_error, decode_pop_error, decode_success_body_failure, parse_retry_after,
};
use imagedesk::protocol::ops::{ecs, ehpc, ens, sts};
use imagedesk::protocol::params::Params;
use imagedesk::protocol::sign::{acs3, oss_v1};
use imagedesk::protocol::validate::{Context, FieldError, Operation, rule_for, rules, validate};
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};
use serde_json::{Value, json};

#[global_allocator]
static ALLOCATOR: cap::Cap<std::alloc::System> = cap::Cap::new(std::alloc::System, 1 << 30);

/// Cases per target without `IMAGEDESK_FUZZ_CASES`.
const DEFAULT_CASES: u32 = 5_000;

/// Most bytes one decoder call may allocate. Inputs here are at most ~500 KB; the sniffer's own
/// reads are capped at 64 KiB + 1 MiB. A decoder sizing memory from a field it read fails this.
const CALL_ALLOCATION_BOUND: usize = 16 << 20;

/// One target at a time: the allocator's counters are process-wide.
static SERIAL: Mutex<()> = Mutex::new(());

fn cases() -> u32 {
    std::env::var("IMAGEDESK_FUZZ_CASES")
        .ok()
        .and_then(|v| v.trim().replace('_', "").parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

/// Per-target statistics, updated from inside the proptest closure.
struct Fuzz {
    name: &'static str,
    cases: Cell<u64>,
    calls: Cell<u64>,
    max_call_bytes: Cell<usize>,
}

impl Fuzz {
    /// Runs one decoder call, recording what it allocated; failing the case above the bound.
    fn call<T>(&self, f: impl FnOnce() -> T) -> Result<T, TestCaseError> {
        let before = ALLOCATOR.total_allocated();
        let out = f();
        let used = ALLOCATOR.total_allocated().saturating_sub(before);
        self.calls.set(self.calls.get() + 1);
        self.max_call_bytes.set(self.max_call_bytes.get().max(used));
        if used > CALL_ALLOCATION_BOUND {
            return Err(TestCaseError::fail(format!(
                "{}: one call allocated {used} bytes (bound {CALL_ALLOCATION_BOUND})",
                self.name
            )));
        }
        Ok(out)
    }
}

/// Runs `test` on `cases()` values of `strategy`, prints the summary line, fails on any failure.
fn fuzz<S: Strategy>(
    name: &'static str,
    strategy: S,
    test: impl Fn(&Fuzz, S::Value) -> Result<(), TestCaseError>,
) {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let stats = Fuzz { name, cases: Cell::new(0), calls: Cell::new(0), max_call_bytes: Cell::new(0) };
    let config = ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() };
    let mut runner = TestRunner::new(config);
    let start = Instant::now();
    let result = runner.run(&strategy, |value| {
        stats.cases.set(stats.cases.get() + 1);
        test(&stats, value)
    });
    println!(
        "fuzz {name}: {} cases ({} calls) in {:.2} s; largest call allocated {} B (bound {} B); process peak {} B",
        stats.cases.get(),
        stats.calls.get(),
        start.elapsed().as_secs_f64(),
        stats.max_call_bytes.get(),
        CALL_ALLOCATION_BOUND,
        ALLOCATOR.max_allocated(),
    );
    if let Err(e) = result {
        panic!("fuzz {name}: {e}");
    }
    // Guards the harness itself: the bound check above must have seen real calls.
    assert!(stats.calls.get() >= u64::from(cases()), "{name}: too few calls measured");
}

// =============================================================================================
// Shared input strategies
// =============================================================================================

/// Short strings of any Unicode scalar values (control characters, RTL, astral planes…).
fn unicode(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(any::<char>(), 0..=max).prop_map(String::from_iter)
}

fn alnum(min: usize, max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".to_vec()),
        min..=max,
    )
    .prop_map(|b| String::from_utf8(b).unwrap())
}

/// Values that break naive parsers: blanks, huge and odd numbers, JSON fragments, long text.
fn nasty_value() -> impl Strategy<Value = String> {
    let fixed: Vec<&'static str> = vec![
        "",
        " ",
        "\t\r\n",
        "0",
        "-1",
        "+1",
        "01",
        "1.5",
        "1e400",
        "NaN",
        "inf",
        "2147483647",
        "2147483648",
        "9223372036854775807",
        "9223372036854775808",
        "18446744073709551616",
        "-9223372036854775809",
        "340282366920938463463374607431768211456",
        "true",
        "True",
        "FALSE",
        "x86_64",
        "arm64",
        "UEFI",
        "BIOS",
        "v1",
        "v2",
        "Deprecated",
        "/dev/xvda",
        "/dev/vdz",
        "2024-02-30T25:61Z",
        "2024-01-01T00:00Z",
        "2024-01-01T00:00:00Z",
        "arn:acs:cloudbox:cn-hangzhou:1:cloudbox/cb-1",
        "http://example.com",
        "aliyun-image",
        "acs:x",
        "{}",
        "[]",
        "null",
        "{\"ImageId\":\"m-1\"}",
        "[{\"OSSBucket\":\"b\",\"OSSObject\":\"o\"}]",
        "[\"\",1,null,{}]",
        "{\"imageid\":1,\"ImageId\":[],\"RegistryCredential\":\"{\\\"Server\\\":1}\"}",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
        "{\"a\":",
        "\"\\ud800\"",
        "镜像名称",
        "\u{202e}evil",
        "a,b,,c",
        ",",
    ];
    prop_oneof![
        4 => prop::sample::select(fixed).prop_map(str::to_owned),
        4 => unicode(40),
        1 => (prop::sample::select(vec!['a', '镜', '.', '-', '0', ' ', '\u{0}']), 100usize..3000)
            .prop_map(|(c, n)| std::iter::repeat_n(c, n).collect()),
        1 => nested_json(200).prop_map(|v| v.to_string()),
    ]
}

/// Arbitrary JSON values, up to `max_leaves` leaves.
fn nested_json(max_leaves: u32) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from), // NaN/inf become null
        unicode(12).prop_map(Value::String),
    ];
    leaf.prop_recursive(8, max_leaves, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((prop_oneof![alnum(1, 12), unicode(6)], inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

// =============================================================================================
// 1. Validators
// =============================================================================================

/// List indices for `N`: in range, at and past the limits, overflowing, malformed.
const INDICES: &[&str] = &[
    "1",
    "2",
    "3",
    "0",
    "16",
    "17",
    "18",
    "20",
    "21",
    "100",
    "101",
    "01",
    "007",
    "4294967296",
    "18446744073709551616",
    "99999999999999999999999999999",
    "-1",
    "",
    "x",
];

#[derive(Clone, Debug)]
enum NameChoice {
    /// The `i`-th rule name of the operation (modulo the table), with `N` replaced.
    Rule { rule: usize, index: usize },
    /// A name no table knows; must never produce an error.
    Unknown(String),
    /// Malformed names near the real ones (`Tag..Key`, `Tag.1`, arbitrary Unicode).
    Odd(String),
}

fn name_choice() -> impl Strategy<Value = NameChoice> {
    prop_oneof![
        8 => (any::<usize>(), 0..INDICES.len()).prop_map(|(rule, index)| NameChoice::Rule { rule, index }),
        1 => alnum(1, 10).prop_map(|s| NameChoice::Unknown(format!("Zz{s}"))),
        1 => prop_oneof![
            prop::sample::select(vec![
                "Tag", "Tag.", "Tag..Key", "Tag.1", "Tag.1.Key.Extra", "Tag.N.Key", ".", "",
                "DiskDeviceMapping", "DiskDeviceMapping.1", "DiskDeviceMapping.x.OSSBucket",
                "Filter.1.Value", "ResourceIds.0", "VMImageSpec.ImageId", "tag.1.key",
            ])
            .prop_map(str::to_owned),
            unicode(16),
        ]
        .prop_map(NameChoice::Odd),
    ]
}

fn concrete_name(op: Operation, choice: &NameChoice) -> String {
    match choice {
        NameChoice::Rule { rule, index } => {
            let table = rules(op);
            if table.is_empty() {
                return "RegionId".to_owned();
            }
            let pattern = table[rule % table.len()].field;
            pattern
                .split('.')
                .map(|seg| if seg == "N" { INDICES[*index] } else { seg })
                .collect::<Vec<_>>()
                .join(".")
        }
        NameChoice::Unknown(name) | NameChoice::Odd(name) => name.clone(),
    }
}

fn context() -> impl Strategy<Value = Context> {
    let opt_text = |values: Vec<&'static str>| {
        prop::option::of(prop_oneof![prop::sample::select(values).prop_map(str::to_owned), unicode(6)])
    };
    (
        opt_text(vec!["v1", "v2", ""]),
        prop::option::of(any::<bool>()),
        opt_text(vec!["arm64", "x86_64", "i386"]),
    )
        .prop_map(|(current_imds_support, image_is_shared, current_architecture)| Context {
            current_imds_support,
            image_is_shared,
            current_architecture,
        })
}

/// The error is well-formed: non-empty parts, bilingual, bounded text.
fn check_field_error(e: &FieldError) -> Result<(), TestCaseError> {
    prop_assert!(!e.field.is_empty(), "{e:?}");
    prop_assert!(e.rule.contains('.') && !e.code.is_empty(), "{e:?}");
    prop_assert!(!e.en.trim().is_empty() && !e.zh.trim().is_empty(), "{e:?}");
    prop_assert!(e.zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "zh has no Chinese: {e:?}");
    // Values are shown cut short (40 chars), so a message grows only with the field name.
    let bound = 1_500 + 4 * e.field.len();
    prop_assert!(e.en.len() <= bound && e.zh.len() <= bound, "message of {} bytes: {e:?}", e.en.len());
    Ok(())
}

/// The field exists for the operation: a name from its rule table, or a path below one (a list
/// entry, a key inside a JSON parameter). Names the table does not know never get an error.
fn field_is_known(op: Operation, field: &str) -> bool {
    let first = field.split('.').next().unwrap_or_default();
    rule_for(op, field).is_some() || rules(op).iter().any(|r| r.field.split('.').next() == Some(first))
}

#[test]
fn operation_validators() {
    let strategy = (
        prop::sample::select(Operation::ALL.to_vec()),
        prop::collection::vec((name_choice(), nasty_value()), 0..16),
        prop::collection::vec((any::<prop::sample::Index>(), alnum(1, 8), nasty_value()), 0..4),
        context(),
    );
    fuzz("validators/operations", strategy, |f, (op, pairs, junk, ctx)| {
        let params =
            Params::from_pairs(pairs.iter().map(|(name, value)| (concrete_name(op, name), value.clone())));
        let errors = f.call(|| validate(op, &params, &ctx))?;
        let mut seen = std::collections::HashSet::new();
        for e in &errors {
            check_field_error(e)?;
            prop_assert!(field_is_known(op, &e.field), "{op:?}: unknown field in {e:?}");
            prop_assert!(seen.insert((e.field.clone(), e.rule)), "{op:?}: duplicate {e:?}");
        }
        // Parameters the table does not know are left alone (wherever they appear).
        let mut with_junk: Vec<(String, String)> = params.clone().into_vec();
        for (at, name, value) in junk {
            with_junk.insert(at.index(with_junk.len() + 1), (format!("Zz{name}"), value));
        }
        let again = f.call(|| validate(op, &Params::from_pairs(with_junk), &ctx))?;
        prop_assert_eq!(&again, &errors, "{:?}: unknown parameters changed the result", op);
        Ok(())
    });
}

#[test]
fn profile_validators() {
    let strategy =
        (nasty_value(), alnum(0, 140), any::<bool>(), prop::sample::select(vec!["", "STS.", "LTAI", " "]));
    fuzz("validators/profile", strategy, |f, (value, key, flag, prefix)| {
        let key = format!("{prefix}{key}");
        let problems = f.call(|| {
            [
                profile_validate::access_key_id(&value, flag),
                profile_validate::access_key_id(&key, flag),
                profile_validate::access_key_secret(&value),
                profile_validate::access_key_secret(&key),
                profile_validate::role_arn(&value),
                profile_validate::session_name(&value),
                profile_validate::duration_secs(&value),
                profile_validate::region_id(&value),
                profile_validate::endpoint(&value, flag),
            ]
        })?;
        for p in problems.iter().flatten() {
            prop_assert!(!p.en.is_empty() && !p.zh.is_empty());
        }
        // A secret is never echoed back in its problem text.
        for (secret, problem) in [(&value, &problems[2]), (&key, &problems[3])] {
            if let Some(p) = problem
                && secret.trim().len() >= 8
            {
                prop_assert!(!p.en.contains(secret.trim()) && !p.zh.contains(secret.trim()));
            }
        }
        // Accepted values have the documented shape.
        if problems[3].is_none() {
            prop_assert!(
                (16..=128).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()),
                "{key:?}"
            );
        }
        if problems[1].is_none() {
            prop_assert!(key.trim().strip_prefix("STS.").is_some() == flag, "{key:?}");
        }
        let secs = value.trim().parse::<u32>().ok().filter(|s| (900..=43_200).contains(s));
        prop_assert_eq!(problems[6].is_none(), secs.is_some(), "duration {:?}", value);
        let session_ok = (2..=64).contains(&value.len())
            && value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '@' | '-' | '_'));
        prop_assert_eq!(problems[5].is_none(), session_ok, "session {:?}", value);
        if problems[8].is_none() {
            let url = url::Url::parse(value.trim());
            prop_assert!(url.is_ok_and(|u| matches!(u.scheme(), "https" | "http")), "endpoint {value:?}");
        }
        Ok(())
    });
}

#[derive(Clone, Debug)]
struct FormInput {
    texts: Vec<String>,
    rows: Vec<(String, String, String, String)>,
    choice: u8,
    flag: bool,
    password: String,
}

fn form_input() -> impl Strategy<Value = FormInput> {
    (
        prop::collection::vec(nasty_value(), 14),
        prop::collection::vec((nasty_value(), nasty_value(), nasty_value(), nasty_value()), 0..22),
        any::<u8>(),
        any::<bool>(),
        alnum(12, 40),
    )
        .prop_map(|(texts, rows, choice, flag, password)| FormInput {
            texts,
            rows,
            choice,
            flag,
            password,
        })
}

/// Every form error is well-formed and under a field the form or its operation knows.
fn check_form_errors(op: Operation, errors: &[FieldError], extra: &[&str]) -> Result<(), TestCaseError> {
    for e in errors {
        check_field_error(e)?;
        prop_assert!(
            extra.contains(&e.field.as_str()) || field_is_known(op, &e.field),
            "{op:?}: unknown field in {e:?}"
        );
    }
    Ok(())
}

#[test]
fn form_validators() {
    fuzz("validators/forms", form_input(), |f, input| {
        let t = |i: usize| input.texts[i].clone();
        let tags: Vec<TagRow> =
            input.rows.iter().map(|(k, v, _, _)| TagRow { key: k.clone(), value: v.clone() }).collect();

        let create = CreateImageForm {
            region: t(0),
            source: [CreateSource::Instance, CreateSource::Snapshot, CreateSource::Disks]
                [usize::from(input.choice % 3)],
            instance_id: t(1),
            snapshot_id: t(2),
            disks: input
                .rows
                .iter()
                .map(|(a, b, c, d)| CreateDiskRow {
                    snapshot_id: a.clone(),
                    size_gib: b.clone(),
                    device: c.clone(),
                    disk_type: d.clone(),
                })
                .collect(),
            name: t(3),
            description: t(4),
            family: t(5),
            version: t(6),
            architecture: t(7),
            platform: t(8),
            boot_mode: t(9),
            imds: t(10),
            detection: input.flag,
            resource_group: t(11),
            tags: tags.clone(),
            ..CreateImageForm::default()
        };
        let errors = f.call(|| create.validate())?;
        check_form_errors(Operation::EcsCreateImage, &errors, &[])?;

        let ens = EnsImportForm {
            name: t(0),
            os_type: t(1),
            platform: t(2),
            os_version: t(3),
            oss_region: t(4),
            target_region: t(5),
            source: if input.flag { EnsSource::Disks } else { EnsSource::SingleFile },
            bucket: t(6),
            object: t(7),
            disks: input
                .rows
                .iter()
                .map(|(a, b, _, _)| EnsDiskRow { bucket: a.clone(), object: b.clone() })
                .collect(),
            ..EnsImportForm::default()
        };
        let errors = f.call(|| ens.validate())?;
        check_form_errors(Operation::EnsImportImage, &errors, &["OSSRegion"])?;

        // The registry password must never show in an error.
        let password = format!("pw-{}", input.password);
        let add = AddImageForm {
            region: t(0),
            kind: if input.flag { AddImageKind::Container } else { AddImageKind::Vm },
            name: t(1),
            version: t(2),
            description: t(3),
            vm_image_id: t(4),
            registry_url: t(5),
            registry: [RegistryKind::AcrPersonal, RegistryKind::AcrEnterprise, RegistryKind::Private]
                [usize::from(input.choice % 3)],
            cri_id: t(6),
            server: t(7),
            user_name: t(8),
            password: Secret::new(password.clone()),
            ..AddImageForm::default()
        };
        let errors = f.call(|| add.validate())?;
        check_form_errors(Operation::EhpcAddImage, &errors, &["RegionId"])?;
        for e in &errors {
            prop_assert!(!e.en.contains(&password) && !e.zh.contains(&password), "password shown in {e:?}");
        }
        let shown = format!("{add:?}");
        prop_assert!(!shown.contains(&password), "form Debug shows the password");
        Ok(())
    });
}

// =============================================================================================
// 2. JSON response and error decoders
// =============================================================================================

/// Raw JSON text spliced in where a value was: numbers no `Value` holds, broken escapes, nesting
/// at and past serde_json's recursion limit, list wrappers nested deep (the lenient list reader
/// recurses through them), long strings.
fn raw_json(i: usize) -> String {
    let nest = |open: &str, close: &str, n: usize| format!("{}{}", open.repeat(n), close.repeat(n));
    match i % 16 {
        0 => "1e999".into(),
        1 => "-1e999".into(),
        2 => "18446744073709551616".into(),
        3 => "-9223372036854775809".into(),
        4 => "340282366920938463463374607431768211456".into(),
        5 => "1.7976931348623157e308".into(),
        6 => "-0.0000000000000000000000001".into(),
        7 => "\"\\ud800\"".into(),
        8 => "\"\\u0000\\u001f\\\"\\\\\"".into(),
        9 => nest("[", "]", 120),
        10 => nest("[", "]", 129),
        11 => nest("{\"a\":", "}", 500).replacen("}", "1}", 1),
        12 => format!("{}[]{}", "{\"Image\":".repeat(125), "}".repeat(125)),
        13 => format!("[{}]", vec!["{\"Task\":[]}"; 2000].join(",")),
        14 => format!("\"{}\"", "镜".repeat(50_000)),
        _ => "NaN".into(),
    }
}

#[derive(Clone, Debug)]
enum Splice {
    /// Any JSON value: a type swap (string↔number↔bool↔null↔array↔object), huge numbers…
    Value(Value),
    /// A [`raw_json`] snippet.
    Raw(usize),
}

fn splice() -> impl Strategy<Value = Splice> {
    prop_oneof![
        3 => nested_json(24).prop_map(Splice::Value),
        1 => prop::sample::select(vec![
            json!(""), json!(" "), json!("true"), json!("False"), json!("1"), json!("-1"), json!("20.5"),
            json!("1e30"), json!("99%"), json!("101%"), json!("NaN%"), json!(0), json!(-1), json!(1.5),
            json!(u64::MAX), json!(i64::MIN), json!(1e300), json!([]), json!({}), json!([{}]), json!({"x": []}),
            json!({"Image": {}}), json!({"Image": null}), json!([{"Task": [{}, {}]}]),
        ])
        .prop_map(Splice::Value),
        1 => (0usize..16).prop_map(Splice::Raw),
    ]
}

/// A structure-aware mutation of a valid document.
#[derive(Clone, Debug)]
struct JsonMutation {
    /// Nodes (preorder index) replaced by a splice.
    edits: Vec<(prop::sample::Index, Splice)>,
    /// An unknown key added to the top-level object (must never matter).
    extra_key: Option<(String, Value)>,
    /// Cut the text here (a body broken off mid-transfer).
    truncate: Option<prop::sample::Index>,
}

impl JsonMutation {
    fn is_identity(&self) -> bool {
        self.edits.is_empty() && self.truncate.is_none()
    }
}

fn json_mutation() -> impl Strategy<Value = JsonMutation> {
    (
        prop::collection::vec((any::<prop::sample::Index>(), splice()), 0..4),
        prop::option::of((alnum(1, 8).prop_map(|k| format!("Zz{k}")), nested_json(8))),
        prop::option::weighted(0.25, any::<prop::sample::Index>()),
    )
        .prop_map(|(edits, extra_key, truncate)| JsonMutation { edits, extra_key, truncate })
}

fn count_nodes(v: &Value) -> usize {
    1 + match v {
        Value::Array(items) => items.iter().map(count_nodes).sum(),
        Value::Object(map) => map.values().map(count_nodes).sum(),
        _ => 0,
    }
}

/// Replaces the `n`-th node in preorder; returns how many nodes were passed.
fn replace_nth(v: &mut Value, n: usize, with: &mut Option<Value>) -> usize {
    if n == 0 {
        if let Some(new) = with.take() {
            *v = new;
        }
        return 1;
    }
    let mut passed = 1;
    let children: Vec<&mut Value> = match v {
        Value::Array(items) => items.iter_mut().collect(),
        Value::Object(map) => map.values_mut().collect(),
        _ => Vec::new(),
    };
    for child in children {
        if with.is_none() {
            break;
        }
        passed += replace_nth(child, n - passed, with);
        if passed > n {
            break;
        }
    }
    passed
}

fn mutate_json(doc: &Value, m: &JsonMutation) -> String {
    let mut doc = doc.clone();
    let mut raws = Vec::new();
    for (at, splice) in &m.edits {
        let target = at.index(count_nodes(&doc));
        let new = match splice {
            Splice::Value(v) => v.clone(),
            Splice::Raw(i) => {
                raws.push(raw_json(*i));
                Value::String(format!("\u{1}raw{}\u{1}", raws.len() - 1))
            }
        };
        replace_nth(&mut doc, target, &mut Some(new));
    }
    if let (Some((key, value)), Value::Object(map)) = (&m.extra_key, &mut doc) {
        map.insert(key.clone(), value.clone());
    }
    let mut text = doc.to_string();
    for (i, raw) in raws.iter().enumerate() {
        text = text.replace(&format!("\"\\u0001raw{i}\\u0001\""), raw);
    }
    if let Some(at) = m.truncate {
        let mut at = at.index(text.len() + 1);
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        text.truncate(at);
    }
    text
}

type JsonDecoder = fn(&str, &RawResponse) -> Result<(), ClientError>;

fn decoder<T: serde::de::DeserializeOwned>(action: &str, raw: &RawResponse) -> Result<(), ClientError> {
    decode_json::<T>(action, raw).map(drop)
}

/// (action, a valid answer in the documented shape, its typed decoder).
fn json_targets() -> Vec<(&'static str, Value, JsonDecoder)> {
    vec![
        (
            "DescribeImages",
            json!({"RequestId": "B8A1E9B4", "RegionId": "cn-hangzhou", "TotalCount": 2, "PageNumber": 1,
                "PageSize": 10, "Images": {"Image": [
                {"ImageId": "m-1", "ImageName": "n", "Status": "Creating", "Progress": "45%", "Size": 40,
                 "CreationTime": "2019-11-15T06:07:05Z", "ImageOwnerAlias": "self", "ImageOwnerId": 1234567890,
                 "OSType": "linux", "Architecture": "x86_64", "BootMode": "BIOS", "IsSupportIoOptimized": true,
                 "IsSelfShared": "True", "LoginAsNonRootSupported": false,
                 "DiskDeviceMappings": {"DiskDeviceMapping": [
                    {"SnapshotId": "s-1", "Size": "40", "Device": "/dev/xvda", "Type": "system", "Format": "qcow2",
                     "Progress": "45%", "RemainTime": 30, "Encrypted": "false"}]},
                 "Features": {"NvmeSupport": "supported", "ImdsSupport": "v2"},
                 "DetectionOptions": {"Status": "Finished", "Items": {"Item": [
                    {"Name": "cloud-init", "Value": "installed", "RiskLevel": "Medium", "RiskCode": "C1"}]}},
                 "Tags": {"Tag": [{"TagKey": "env", "TagValue": "dev"}]}},
                {"ImageId": "m-2", "Status": "Available", "Tags": {"Tag": []}}]}}),
            decoder::<ecs::DescribeImagesResponse>,
        ),
        (
            "ImportImage",
            json!({"RequestId": "r", "RegionId": "cn-hangzhou", "ImageId": "m-1", "TaskId": "t-1", "ImportTaskId": "old"}),
            decoder::<ecs::ImportImageResponse>,
        ),
        ("CreateImage", json!({"RequestId": "r", "ImageId": "m-1"}), decoder::<ecs::ImageIdResponse>),
        ("DeleteImage", json!({"RequestID": "r"}), decoder::<ecs::EmptyResponse>),
        (
            "DescribeTasks",
            json!({"RequestId": "r", "RegionId": "cn-hangzhou", "TotalCount": 2, "PageNumber": 1, "PageSize": 10,
                "TaskSet": {"Task": [{"TaskId": "t-1", "TaskAction": "ImportImage", "TaskStatus": "Processing",
                "SupportCancel": "true", "CreationTime": "2015-11-24T12:50Z", "ResourceId": "m-1"}]}}),
            decoder::<ecs::DescribeTasksResponse>,
        ),
        (
            "DescribeTaskAttribute",
            json!({"RequestId": "r", "RegionId": "cn-hangzhou", "TaskId": "t-1", "TaskAction": "ExportImage",
                "TaskStatus": "Finished", "TaskProcess": "100%", "SupportCancel": "false", "TotalCount": 1,
                "SuccessCount": "1", "FailedCount": 0, "OperationProgressSet": {"OperationProgress": [
                {"OperationStatus": "Success", "ErrorCode": "", "ErrorMsg": "", "RelatedItemSet": {"RelatedItem": [
                {"Name": "OSSBucket", "Value": "b"}, {"Name": "OSSObject", "Value": "o.raw"}]}}]}}),
            decoder::<ecs::DescribeTaskAttributeResponse>,
        ),
        (
            "DescribeRegions",
            json!({"RequestId": "r", "Regions": {"Region": [{"RegionId": "cn-hangzhou", "LocalName": "华东1（杭州）",
                "RegionEndpoint": "ecs.cn-hangzhou.aliyuncs.com", "Status": "available"}]}}),
            decoder::<ecs::DescribeRegionsResponse>,
        ),
        (
            "DescribeImageSharePermission",
            json!({"RequestId": "r", "ImageId": "m-1", "TotalCount": 1, "Accounts": {"Account": [{"AliyunId": "123"}]},
                "ShareGroups": {"ShareGroup": [{"Group": "all"}]}}),
            decoder::<ecs::DescribeImageSharePermissionResponse>,
        ),
        (
            "DescribeImages",
            json!({"RequestId": "r", "Code": 0, "TotalCount": "2", "PageNumber": "1", "PageSize": "10",
                "Images": {"Image": [{"ImageId": "m-1", "ImageName": "centos", "ImageOwnerAlias": "self",
                "ImageSize": "20", "Architecture": "x86_64", "Status": "Pack_failed", "ComputeType": "ens_vm",
                "ImageStorageSize": "12", "DiskDeviceMappings": {"DiskDeviceMapping": [
                {"Format": "qcow2", "Size": "20", "Type": "system", "imageId": "m-1-sys"}]}}]}}),
            decoder::<ens::DescribeImagesResponse>,
        ),
        (
            "DescribeImageInfos",
            json!({"RequestId": "r", "Code": 0, "Images": {"Image": {"ImageId": "centos_7", "ImageVersion": "7.6",
                "ImageSize": 20, "OSType": "linux", "DiskDeviceMappings": {"DiskDeviceMapping": [
                {"Format": "qcow2", "Size": 20, "Type": "System", "ImageId": "d-1"}]}}}}),
            decoder::<ens::DescribeImageInfosResponse>,
        ),
        (
            "ImportImage",
            json!({"RequestId": "r", "Code": "0", "ImageId": "m-1"}),
            decoder::<ens::ImportImageResponse>,
        ),
        (
            "ListImages",
            json!({"RequestId": "r", "Success": true, "TotalCount": 1, "PageNumber": 1, "PageSize": 10,
                "Images": [{"ImageId": "m-1", "Name": "app", "ImageType": "VM", "Version": "1", "DocumentId": 12,
                "Weight": "3", "CreateTime": "2024-01-01"}]}),
            decoder::<ehpc::ListImagesResponse>,
        ),
        (
            "GetImage",
            json!({"RequestId": "r", "Success": "true", "TotalCount": 1, "Image": {"ImageType": "Container",
                "Name": "app", "VMImageSpec": {"ImageId": "m-1"}, "ContainerImageSpec": {"RegistryUrl": "r",
                "IsACRRegistry": "True", "RegistryCredential": {"Server": "s", "UserName": "u", "Password": "p"}},
                "DocumentInfo": {"Document": "d"}, "AdditionalRegionsInfo": [{"RegionId": "cn-beijing"}]}}),
            decoder::<ehpc::GetImageResponse>,
        ),
        (
            "AddImage",
            json!({"RequestId": "r", "ImageId": "m-1", "Success": true}),
            decoder::<ehpc::AddImageResponse>,
        ),
        (
            "AssumeRole",
            json!({"RequestId": "r", "AssumedRoleUser": {"Arn": "acs:ram::1:role/x/s", "AssumedRoleId": "3:s"},
                "Credentials": {"AccessKeyId": "STS.abc", "AccessKeySecret": "s", "SecurityToken": "t",
                "Expiration": "2026-11-23T12:00:00Z"}}),
            decoder::<sts::AssumeRoleResponse>,
        ),
    ]
}

#[derive(Clone, Debug)]
enum Body {
    Bytes(Vec<u8>),
    Mutated(JsonMutation),
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..256).prop_map(Body::Bytes),
        1 => unicode(64).prop_map(|s| Body::Bytes(s.into_bytes())),
        6 => json_mutation().prop_map(Body::Mutated),
    ]
}

#[test]
fn json_response_decoders() {
    let targets = json_targets();
    let strategy = (0..targets.len(), body(), prop::sample::select(vec![200u16, 201, 299]));
    fuzz("json/responses", strategy, |f, (which, body, status)| {
        let (action, sample, decode) = &targets[which];
        let (text, must_decode) = match &body {
            Body::Bytes(bytes) => (bytes.clone(), false),
            // Unknown keys never matter, so only real edits may make a valid answer fail.
            Body::Mutated(m) => (mutate_json(sample, m).into_bytes(), m.is_identity()),
        };
        let raw = RawResponse { status, body: text, attempts: 1 };
        let result = f.call(|| decode(action, &raw))?;
        match result {
            Ok(()) => {}
            Err(e) => {
                prop_assert!(!must_decode, "{action}: a valid answer failed: {e}");
                let ClientError::Decode { action: named, status: got, .. } = &e else {
                    return Err(TestCaseError::fail(format!("{action}: not a decode error: {e:?}")));
                };
                prop_assert_eq!((named.as_str(), *got), (*action, status));
                let shown = e.to_string();
                prop_assert!(shown.starts_with(&format!("{action}: ")), "{shown}");
            }
        }
        Ok(())
    });
}

/// AssumeRole (and E-HPC GetImage) answers carry secrets; a decode error must not quote them.
#[test]
fn decode_errors_never_quote_secrets() {
    let strategy = (any::<bool>(), alnum(16, 30), json_mutation());
    fuzz("json/secrets", strategy, |f, (sts, secret, m)| {
        let secret = format!("SECRET{secret}");
        let (action, sample, decode): (&str, Value, JsonDecoder) = if sts {
            let credentials = json!({"AccessKeyId": "STS.abc", "AccessKeySecret": secret, "SecurityToken": "t",
                "Expiration": "2026-11-23T12:00:00Z"});
            (
                "AssumeRole",
                json!({"Credentials": credentials, "RequestId": "r"}),
                decoder::<sts::AssumeRoleResponse>,
            )
        } else {
            let spec = json!({"RegistryCredential": {"Password": secret, "Server": "s"}, "RegistryUrl": "r"});
            (
                "GetImage",
                json!({"Image": {"ContainerImageSpec": spec}, "RequestId": "r"}),
                decoder::<ehpc::GetImageResponse>,
            )
        };
        let raw = RawResponse { status: 200, body: mutate_json(&sample, &m).into_bytes(), attempts: 1 };
        if let Err(e) = f.call(|| decode(action, &raw))? {
            prop_assert!(!e.to_string().contains(&secret), "{action} error shows the secret: {e}");
        }
        Ok(())
    });
}

#[derive(Clone, Debug)]
enum ErrorBody {
    Bytes(Vec<u8>),
    /// `{"Code":…,"Message":…,"RequestId":…}` with the key spelling varied, then mutated.
    Pop {
        code: String,
        message: String,
        request_id: String,
        lower: bool,
        m: JsonMutation,
    },
    /// A 2xx failure: `Success:false` (E-HPC), non-zero `Code` (ENS) or the Apsara envelope.
    Failure {
        kind: u8,
        code: String,
        message: String,
        m: JsonMutation,
    },
}

fn error_text() -> impl Strategy<Value = String> {
    prop_oneof![
        alnum(1, 20).prop_map(|s| format!("Invalid.{s}")),
        unicode(12),
        Just(String::new()),
        Just(" ".into())
    ]
}

fn error_body() -> impl Strategy<Value = ErrorBody> {
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..200).prop_map(ErrorBody::Bytes),
        3 => (error_text(), unicode(30), alnum(0, 12), any::<bool>(), json_mutation())
            .prop_map(|(code, message, request_id, lower, m)| ErrorBody::Pop { code, message, request_id, lower, m }),
        2 => (0u8..3, error_text(), unicode(30), json_mutation())
            .prop_map(|(kind, code, message, m)| ErrorBody::Failure { kind, code, message, m }),
    ]
}

/// Status values the decoders branch on, and odd ones.
fn http_status() -> impl Strategy<Value = u16> {
    prop_oneof![prop::sample::select(vec![200u16, 400, 403, 404, 409, 429, 500, 502, 503]), any::<u16>()]
}

fn check_api_error(e: &imagedesk::protocol::error::ApiError, status: u16) -> Result<(), TestCaseError> {
    prop_assert_eq!(e.http_status, status);
    // A blank code would hide the status-based fallback code the retry policy relies on.
    prop_assert!(!e.code.trim().is_empty(), "blank code: {e:?}");
    let shown = e.to_string();
    prop_assert!(shown.contains(&format!("(HTTP {status})")), "{shown}");
    Ok(())
}

#[test]
fn json_error_decoders() {
    let strategy = (error_body(), http_status(), nasty_value(), 0u64..10_000);
    fuzz("json/errors", strategy, |f, (body, status, text, n)| {
        let (bytes, expect) = match &body {
            ErrorBody::Bytes(b) => (b.clone(), None),
            ErrorBody::Pop { code, message, request_id, lower, m } => {
                let doc = if *lower {
                    json!({"code": code, "message": message, "requestId": request_id, "HostId": "h"})
                } else {
                    json!({"RequestId": request_id, "Code": code, "Message": message, "Recommend": "x"})
                };
                let expect =
                    (m.is_identity() && !code.trim().is_empty()).then(|| (code.clone(), message.clone()));
                (mutate_json(&doc, m).into_bytes(), expect)
            }
            ErrorBody::Failure { kind, code, message, m } => {
                let doc = match kind {
                    0 => json!({"RequestId": "r", "Success": false, "Code": code, "Message": message}),
                    1 => json!({"RequestId": "r", "Code": code, "Message": message}),
                    _ => json!({"errorSample": {"resultCode": code, "resultMsg": message, "result": null}}),
                };
                (mutate_json(&doc, m).into_bytes(), None)
            }
        };
        let pop = f.call(|| decode_pop_error(status, &bytes))?;
        if let Some(e) = &pop {
            check_api_error(e, status)?;
            prop_assert_eq!(e.service, Service::Pop);
        }
        if let Some((code, message)) = expect {
            let e = pop.expect("a well-formed POP error decodes");
            prop_assert_eq!((&e.code, &e.message), (&code, &message));
        }
        if let Some(e) = f.call(|| decode_success_body_failure(status, &bytes))? {
            check_api_error(&e, status)?;
        }
        if let ErrorBody::Failure { kind: 0, code, m, .. } = &body
            && m.is_identity()
        {
            // `Success:false` is a failure whatever the code says.
            let e = decode_success_body_failure(status, &bytes);
            prop_assert!(e.is_some_and(|e| code.trim().is_empty() || e.code == *code), "{body:?}");
        }

        // Retry-After: positive durations only; seconds up to an hour, then milliseconds.
        for value in [text.clone(), n.to_string(), format!(" {n} ")] {
            let parsed = f.call(|| parse_retry_after(&value))?;
            prop_assert!(parsed.is_none_or(|d| !d.is_zero()), "{value:?}");
        }
        let expected = match n {
            0 => None,
            1..=3600 => Some(std::time::Duration::from_secs(n)),
            _ => Some(std::time::Duration::from_millis(n)),
        };
        prop_assert_eq!(parse_retry_after(&n.to_string()), expected);

        // Progress: always 0–100, and exact for whole percentages however they are written.
        for value in [text.clone(), format!("{}%", n % 101), format!(" {} % ", n % 101), format!("{n}.5")] {
            let p = f.call(|| progress_percent(&value))?;
            prop_assert!(p.is_none_or(|p| p <= 100), "{value:?} → {p:?}");
        }
        prop_assert_eq!(progress_percent(&format!("{}%", n % 101)), u8::try_from(n % 101).ok());
        Ok(())
    });
}

// =============================================================================================
// 3. OSS XML answers
// =============================================================================================

/// Text that needs escaping, CJK, and plain words (no outer blanks: OSS values have none).
fn xml_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec!['a', 'Z', '7', '-', '.', '/', '镜', '&', '<', '>', '"', '\'', ' ']),
        1..16,
    )
    .prop_map(|chars| {
        let s: String = chars.into_iter().collect();
        let s = s.trim();
        if s.is_empty() { "x".to_owned() } else { s.to_owned() }
    })
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// Hostile XML fragments inserted into valid documents.
fn xml_snippet(i: usize) -> Vec<u8> {
    let s: String = match i % 24 {
        0 => "<".into(),
        1 => ">".into(),
        2 => "</Part>".into(),
        3 => "<Part>".into(),
        4 => "&bogus;".into(),
        5 => "&#0;".into(),
        6 => "&#xFFFFFFFF;&#x110000;&#99999999999;".into(),
        7 => "<![CDATA[<Code>x</Code>]]>".into(),
        8 => "<!-- <Code>c</Code> --><?pi x?>".into(),
        9 => {
            "<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\
              <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">]>&lol3;"
                .into()
        }
        10 => "<a>".repeat(20_000),
        11 => format!("{}{}", "<Part>".repeat(5_000), "</Part>".repeat(5_000)),
        12 => "\u{0}\u{1}".into(),
        13 => return vec![0xff, 0xfe, 0xc3],
        14 => "<PartNumber>99999999999</PartNumber>".into(),
        15 => "<Size>-1</Size><Size>18446744073709551616</Size>".into(),
        16 => "<IsTruncated>maybe</IsTruncated>".into(),
        17 => "<Part/><Upload/><Bucket/><Contents/>".into(),
        18 => " xmlns:x=\"urn:x\" x:y=\"1\"".into(),
        19 => "<x:Code xmlns:x=\"urn:x\">shadow</x:Code>".into(),
        20 => "A".repeat(100_000),
        21 => "<Code></Code><Message/>".into(),
        22 => "<?xml version=\"1.0\" encoding=\"UTF-16\"?>".into(),
        _ => "<Buckets><Buckets><Bucket><Name>n</Name></Bucket></Buckets></Buckets>".into(),
    };
    s.into_bytes()
}

#[derive(Clone, Debug)]
enum XmlEdit {
    Insert(prop::sample::Index, usize),
    Delete(prop::sample::Index, usize),
    Duplicate(prop::sample::Index, prop::sample::Index),
    Truncate(prop::sample::Index),
}

fn xml_edit() -> impl Strategy<Value = XmlEdit> {
    prop_oneof![
        3 => (any::<prop::sample::Index>(), 0usize..24).prop_map(|(at, i)| XmlEdit::Insert(at, i)),
        1 => (any::<prop::sample::Index>(), 1usize..40).prop_map(|(at, n)| XmlEdit::Delete(at, n)),
        1 => (any::<prop::sample::Index>(), any::<prop::sample::Index>()).prop_map(|(a, b)| XmlEdit::Duplicate(a, b)),
        1 => any::<prop::sample::Index>().prop_map(XmlEdit::Truncate),
    ]
}

fn apply_xml_edits(doc: &str, edits: &[XmlEdit]) -> Vec<u8> {
    let mut bytes = doc.as_bytes().to_vec();
    for edit in edits {
        let len = bytes.len();
        match edit {
            XmlEdit::Insert(at, i) => {
                let at = at.index(len + 1);
                bytes.splice(at..at, xml_snippet(*i));
            }
            XmlEdit::Delete(at, n) if len > 0 => {
                let at = at.index(len);
                bytes.drain(at..(at + n).min(len));
            }
            XmlEdit::Duplicate(a, b) if len > 0 => {
                let (a, b) = (a.index(len), b.index(len));
                let (from, to) = (a.min(b), a.max(b));
                let copy = bytes[from..to].to_vec();
                bytes.splice(to..to, copy);
            }
            XmlEdit::Truncate(at) => bytes.truncate(at.index(len + 1)),
            XmlEdit::Delete(..) | XmlEdit::Duplicate(..) => {}
        }
    }
    bytes
}

/// What a generated document holds, to compare with what was decoded.
#[derive(Clone, Debug)]
enum XmlDoc {
    Error { code: String, message: String, request_id: Option<String>, ec: String, in_header: bool },
    Parts { truncated: bool, marker: Option<u32>, parts: Vec<(u32, String, u64, Option<u64>)> },
    Initiate { upload_id: String },
    Complete { etag: Option<String> },
    Uploads { truncated: bool, uploads: Vec<(String, String)> },
    Buckets(Vec<String>),
    Objects(Vec<(String, u64)>),
}

fn xml_doc() -> impl Strategy<Value = XmlDoc> {
    let part = (any::<u32>(), xml_text(), any::<u64>(), prop::option::of(any::<u64>()));
    prop_oneof![
        (xml_text(), xml_text(), prop::option::of(alnum(1, 24)), alnum(0, 8), any::<bool>()).prop_map(
            |(code, message, request_id, ec, in_header)| XmlDoc::Error {
                code,
                message,
                request_id,
                ec,
                in_header
            }
        ),
        (any::<bool>(), prop::option::of(any::<u32>()), prop::collection::vec(part, 0..12))
            .prop_map(|(truncated, marker, parts)| XmlDoc::Parts { truncated, marker, parts }),
        xml_text().prop_map(|upload_id| XmlDoc::Initiate { upload_id }),
        prop::option::of(xml_text()).prop_map(|etag| XmlDoc::Complete { etag }),
        (any::<bool>(), prop::collection::vec((xml_text(), alnum(1, 32)), 0..8))
            .prop_map(|(truncated, uploads)| XmlDoc::Uploads { truncated, uploads }),
        prop::collection::vec(xml_text(), 0..8).prop_map(XmlDoc::Buckets),
        prop::collection::vec((xml_text(), any::<u64>()), 0..8).prop_map(XmlDoc::Objects),
    ]
}

fn render_xml(doc: &XmlDoc) -> String {
    let head = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    match doc {
        XmlDoc::Error { code, message, request_id, ec, .. } => {
            let id = request_id.as_ref().map(|id| format!("<RequestId>{id}</RequestId>")).unwrap_or_default();
            let ec = if ec.is_empty() { String::new() } else { format!("<EC>{ec}</EC>") };
            format!(
                "{head}<Error><Code>{}</Code><Message>{}</Message>{id}<HostId>b.oss.aliyuncs.com</HostId>{ec}</Error>",
                esc(code),
                esc(message)
            )
        }
        XmlDoc::Parts { truncated, marker, parts } => {
            let marker = marker
                .map(|m| format!("<NextPartNumberMarker>{m}</NextPartNumberMarker>"))
                .unwrap_or_default();
            let parts: String = parts
                .iter()
                .map(|(n, etag, size, crc)| {
                    let crc = crc.map(|c| format!("<HashCrc64ecma>{c}</HashCrc64ecma>")).unwrap_or_default();
                    format!("<Part><PartNumber>{n}</PartNumber><LastModified>x</LastModified><ETag>{}</ETag><Size>{size}</Size>{crc}</Part>", esc(etag))
                })
                .collect();
            format!(
                "{head}<ListPartsResult xmlns=\"http://doc.oss-cn-hangzhou.aliyuncs.com\"><Bucket>b</Bucket><IsTruncated>{truncated}</IsTruncated>{marker}{parts}</ListPartsResult>"
            )
        }
        XmlDoc::Initiate { upload_id } => format!(
            "{head}<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>{}</UploadId></InitiateMultipartUploadResult>",
            esc(upload_id)
        ),
        XmlDoc::Complete { etag } => {
            let etag = etag.as_ref().map(|e| format!("<ETag>{}</ETag>", esc(e))).unwrap_or_default();
            format!(
                "{head}<CompleteMultipartUploadResult><Location>l</Location>{etag}</CompleteMultipartUploadResult>"
            )
        }
        XmlDoc::Uploads { truncated, uploads } => {
            let uploads: String = uploads
                .iter()
                .map(|(key, id)| {
                    format!(
                        "<Upload><Key>{}</Key><UploadId>{id}</UploadId><Initiated>t</Initiated></Upload>",
                        esc(key)
                    )
                })
                .collect();
            format!(
                "{head}<ListMultipartUploadsResult><IsTruncated>{truncated}</IsTruncated><NextKeyMarker>k</NextKeyMarker>{uploads}</ListMultipartUploadsResult>"
            )
        }
        XmlDoc::Buckets(names) => {
            let buckets: String = names
                .iter()
                .map(|n| {
                    format!("<Bucket><Name>{}</Name><Location>oss-cn-hangzhou</Location></Bucket>", esc(n))
                })
                .collect();
            format!(
                "{head}<ListAllMyBucketsResult><Owner><ID>1</ID></Owner><Buckets>{buckets}</Buckets></ListAllMyBucketsResult>"
            )
        }
        XmlDoc::Objects(objects) => {
            let contents: String = objects
                .iter()
                .map(|(key, size)| {
                    format!("<Contents><Key>{}</Key><Size>{size}</Size><ETag>e</ETag></Contents>", esc(key))
                })
                .collect();
            format!("{head}<ListBucketResult><Name>b</Name><Prefix></Prefix>{contents}</ListBucketResult>")
        }
    }
}

/// `Err` from an upload answer must be the decode error naming the action.
fn check_upload_error(action: &str, e: &UploadError) -> Result<(), TestCaseError> {
    let UploadError::Decode { action: named, reason } = e else {
        return Err(TestCaseError::fail(format!("{action}: not a decode error: {e:?}")));
    };
    prop_assert!(named == action && !reason.is_empty(), "{e:?}");
    prop_assert!(e.to_string().starts_with(&format!("{action}: ")), "{e}");
    Ok(())
}

/// Decodes `bytes` with every parser; `expect`: the document is unmutated, so it must round-trip.
fn decode_all_xml(
    f: &Fuzz,
    bytes: &[u8],
    status: u16,
    doc: &XmlDoc,
    expect: bool,
) -> Result<(), TestCaseError> {
    let in_header = matches!(doc, XmlDoc::Error { in_header: true, .. });
    let encoded = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes);
    let header = |name: &str| match name {
        "x-oss-err" if in_header => Some(encoded.clone()),
        "x-oss-request-id" => Some("hdr-id".to_owned()),
        "x-oss-ec" => Some("0000-00000000".to_owned()),
        _ => None,
    };
    let body = if in_header { &[][..] } else { bytes };
    let error = f.call(|| decode_oss_error(status, body, header))?;
    check_api_error(&error, status)?;
    prop_assert_eq!(error.service, Service::Oss);
    prop_assert!(error.request_id.is_some() && error.ec.is_some(), "header fallbacks unused: {error:?}");

    let parts = f.call(|| parse_xml::<ListPartsResult>("ListParts", bytes))?;
    let initiate = f.call(|| parse_xml::<InitiateResult>("InitiateMultipartUpload", bytes))?;
    let complete = f.call(|| parse_xml::<CompleteResult>("CompleteMultipartUpload", bytes))?;
    let uploads = f.call(|| parse_xml::<ListUploadsResult>("ListMultipartUploads", bytes))?;
    let buckets = f.call(|| parse_oss_listing(false, bytes))?;
    let objects = f.call(|| parse_oss_listing(true, bytes))?;
    for (action, e) in [
        ("ListParts", parts.as_ref().err()),
        ("InitiateMultipartUpload", initiate.as_ref().err()),
        ("CompleteMultipartUpload", complete.as_ref().err()),
        ("ListMultipartUploads", uploads.as_ref().err()),
    ] {
        if let Some(e) = e {
            check_upload_error(action, e)?;
        }
    }
    for listing in [&buckets, &objects] {
        if let Err(e) = listing {
            prop_assert!(e.message.contains("OSS") && e.message.len() > 20, "{e:?}");
        }
    }
    if !expect {
        return Ok(());
    }
    match doc {
        XmlDoc::Error { code, message, request_id, ec, .. } => {
            prop_assert_eq!((&error.code, &error.message), (code, message));
            prop_assert_eq!(error.request_id.as_deref(), Some(request_id.as_deref().unwrap_or("hdr-id")));
            prop_assert_eq!(
                error.ec.as_deref(),
                Some(if ec.is_empty() { "0000-00000000" } else { ec.as_str() })
            );
        }
        XmlDoc::Parts { truncated, marker, parts: want } => {
            let got = parts.map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!((got.is_truncated, got.next_part_number_marker), (*truncated, *marker));
            let got: Vec<_> =
                got.parts.iter().map(|p| (p.part_number, p.etag.clone(), p.size, p.hash_crc64ecma)).collect();
            prop_assert_eq!(&got, want);
        }
        XmlDoc::Initiate { upload_id } => {
            prop_assert_eq!(&initiate.map_err(|e| TestCaseError::fail(e.to_string()))?.upload_id, upload_id);
        }
        XmlDoc::Complete { etag } => {
            prop_assert_eq!(&complete.map_err(|e| TestCaseError::fail(e.to_string()))?.etag, etag);
        }
        XmlDoc::Uploads { truncated, uploads: want } => {
            let got = uploads.map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(got.is_truncated, *truncated);
            let got: Vec<_> = got.uploads.iter().map(|u| (u.key.clone(), u.upload_id.clone())).collect();
            prop_assert_eq!(&got, want);
        }
        XmlDoc::Buckets(names) => {
            let got = buckets.map_err(|e| TestCaseError::fail(e.message))?;
            prop_assert_eq!(got, names.iter().map(|n| (n.clone(), 0)).collect::<Vec<_>>());
        }
        XmlDoc::Objects(want) => {
            prop_assert_eq!(&objects.map_err(|e| TestCaseError::fail(e.message))?, want);
        }
    }
    Ok(())
}

#[test]
fn oss_xml_decoders() {
    let strategy = prop_oneof![
        1 => (prop::collection::vec(any::<u8>(), 0..300), http_status())
            .prop_map(|(bytes, status)| (XmlDoc::Complete { etag: None }, Some(bytes), Vec::new(), status)),
        5 => (xml_doc(), prop::collection::vec(xml_edit(), 0..4), http_status())
            .prop_map(|(doc, edits, status)| (doc, None, edits, status)),
    ];
    fuzz("xml/oss", strategy, |f, (doc, bytes, edits, status)| {
        let expect = bytes.is_none() && edits.is_empty();
        let bytes = bytes.unwrap_or_else(|| apply_xml_edits(&render_xml(&doc), &edits));
        decode_all_xml(f, &bytes, status, &doc, expect)
    });
}

// =============================================================================================
// 4. aliyun CLI config.json and the SDKs' INI credentials file
// =============================================================================================

const CLI_MODES: &[&str] = &[
    "AK",
    "StsToken",
    "RamRoleArn",
    "EcsRamRole",
    "ChainableRamRoleArn",
    "RsaKeyPair",
    "External",
    "CredentialsURI",
    "OIDC",
    "CloudSSO",
    "",
    "ak",
    "Unknown",
];

#[derive(Clone, Debug)]
struct CliCase {
    secret: String,
    token: String,
    /// Per profile: mode index, name, which optional fields are present, seconds.
    profiles: Vec<(usize, String, u16, Value)>,
    current: prop::sample::Index,
    m: JsonMutation,
}

fn cli_case() -> impl Strategy<Value = CliCase> {
    let seconds = prop::sample::select(vec![
        json!(0),
        json!(899),
        json!(900),
        json!(3600),
        json!(-1),
        json!(1e20),
        json!("3600"),
        json!(null),
        json!(u64::MAX),
    ]);
    (
        alnum(16, 30),
        alnum(16, 30),
        prop::collection::vec(
            (0..CLI_MODES.len(), prop_oneof![alnum(1, 10), unicode(6)], any::<u16>(), seconds),
            0..6,
        ),
        any::<prop::sample::Index>(),
        json_mutation(),
    )
        .prop_map(|(secret, token, profiles, current, m)| CliCase {
            secret: format!("SECRET{secret}"),
            token: format!("TOKEN{token}"),
            profiles,
            current,
            m,
        })
}

fn cli_document(case: &CliCase) -> Value {
    let profiles: Vec<Value> = case
        .profiles
        .iter()
        .map(|(mode, name, present, seconds)| {
            let mut p = serde_json::Map::new();
            let mut put = |bit: u16, key: &str, value: Value| {
                if present & (1 << bit) != 0 {
                    p.insert(key.to_owned(), value);
                }
            };
            put(0, "name", json!(name));
            put(1, "mode", json!(CLI_MODES[*mode]));
            put(2, "access_key_id", json!("LTAI5tExampleExample0123"));
            put(3, "access_key_secret", json!(case.secret));
            put(4, "sts_token", json!(case.token));
            put(5, "ram_role_arn", json!("acs:ram::123:role/admin"));
            put(6, "ram_session_name", json!("imagedesk"));
            put(7, "ram_role_name", json!("ecs-role"));
            put(8, "expired_seconds", seconds.clone());
            put(9, "region_id", json!("cn-hangzhou"));
            put(10, "policy", json!("{\"Statement\":[]}"));
            put(11, "source_profile", json!("other"));
            put(12, "process_command", json!("x"));
            put(13, "sts_region", json!("cn-shanghai"));
            Value::Object(p)
        })
        .collect();
    let current = case.profiles.get(case.current.index(case.profiles.len().max(1))).map(|p| p.1.clone());
    json!({"current": current, "profiles": profiles, "meta_path": "", "language": "en"})
}

/// Neither secret appears in an error, a problem or a profile's `Debug`.
fn check_no_secret(
    result: &Result<Vec<imagedesk::profiles::import::ImportedProfile>, ImportError>,
    secrets: [&str; 2],
) -> Result<(), TestCaseError> {
    match result {
        Err(e) => {
            let shown = e.to_string();
            prop_assert!(!shown.is_empty());
            for s in secrets {
                prop_assert!(!shown.contains(s), "error shows a secret: {shown}");
            }
        }
        Ok(profiles) => {
            for p in profiles {
                let shown = format!("{p:?}");
                for s in secrets {
                    prop_assert!(!shown.contains(s), "profile Debug shows a secret: {shown}");
                    prop_assert!(
                        !p.problems.iter().any(|m| m.contains(s)),
                        "problem shows a secret: {:?}",
                        p.problems
                    );
                }
            }
        }
    }
    Ok(())
}

#[test]
fn aliyun_cli_config() {
    let strategy = prop_oneof![
        6 => cli_case().prop_map(|case| (case, None)),
        1 => (cli_case(), prop_oneof![unicode(200), nasty_value()]).prop_map(|(case, text)| (case, Some(text))),
    ];
    let path = Path::new("/home/u/.aliyun/config.json");
    fuzz("config/aliyun-cli", strategy, |f, (case, raw)| {
        let doc = cli_document(&case);
        let text = raw.clone().unwrap_or_else(|| mutate_json(&doc, &case.m));
        let result = f.call(|| parse_aliyun_cli_config(&text, path))?;
        check_no_secret(&result, [&case.secret, &case.token])?;
        if let Err(e) = &result {
            prop_assert!(e.to_string().starts_with(&path.display().to_string()), "{e}");
        }
        if raw.is_none() && case.m.is_identity() {
            let profiles = result.map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(profiles.len(), case.profiles.len());
            prop_assert!(profiles.iter().filter(|p| p.is_current).count() <= 1);
        }
        Ok(())
    });
}

#[derive(Clone, Debug)]
enum IniEdit {
    DropLine(prop::sample::Index),
    DuplicateLine(prop::sample::Index),
    InsertLine(prop::sample::Index, String),
    Truncate(prop::sample::Index),
    Crlf,
    Bom,
}

fn ini_edit() -> impl Strategy<Value = IniEdit> {
    let junk = prop_oneof![
        prop::sample::select(vec![
            "[",
            "[]",
            "[a] x",
            "[a] # c",
            "=",
            "novalue",
            "=x",
            "key = \"open",
            "key = 'a' b",
            "; c",
            "# c",
            "\u{feff}",
            "[default",
            "  [ spaced ]  ",
            "type = access_key",
            "TYPE = STS",
        ])
        .prop_map(str::to_owned),
        unicode(20),
    ];
    prop_oneof![
        2 => any::<prop::sample::Index>().prop_map(IniEdit::DropLine),
        1 => any::<prop::sample::Index>().prop_map(IniEdit::DuplicateLine),
        3 => (any::<prop::sample::Index>(), junk).prop_map(|(at, line)| IniEdit::InsertLine(at, line)),
        1 => any::<prop::sample::Index>().prop_map(IniEdit::Truncate),
        1 => Just(IniEdit::Crlf),
        1 => Just(IniEdit::Bom),
    ]
}

/// How a secret value is written: bare, quoted, commented, or broken quoting.
const INI_VALUE_FORMS: &[&str] =
    &["{}", "\"{}\"", "'{}'", "{} # note", "\"{}\" ; note", "\"{}", "'{}\" x", "\"{}\" tail", "  {}  "];

#[derive(Clone, Debug)]
struct IniCase {
    secret: String,
    token: String,
    sections: Vec<(String, Vec<(usize, usize)>)>,
    edits: Vec<IniEdit>,
}

const INI_KEYS: &[&str] = &[
    "type",
    "access_key_id",
    "access_key_secret",
    "security_token",
    "role_arn",
    "role_session_name",
    "role_session_expiration",
    "region_id",
    "policy",
    "role_name",
    "Access_Key_Secret",
];

fn ini_case() -> impl Strategy<Value = IniCase> {
    let section_name = prop_oneof![
        Just("default".to_owned()),
        alnum(1, 10),
        unicode(6).prop_map(|s| s.replace([']', '\n', '\r'], ""))
    ];
    (
        alnum(16, 30),
        alnum(16, 30),
        prop::collection::vec(
            (section_name, prop::collection::vec((0..INI_KEYS.len(), 0..INI_VALUE_FORMS.len()), 0..10)),
            0..5,
        ),
        prop::collection::vec(ini_edit(), 0..4),
    )
        .prop_map(|(secret, token, sections, edits)| IniCase {
            secret: format!("SECRET{secret}"),
            token: format!("TOKEN{token}"),
            sections,
            edits,
        })
}

fn ini_text(case: &IniCase) -> String {
    let mut lines: Vec<String> = Vec::new();
    for (name, entries) in &case.sections {
        lines.push(format!("[{name}]"));
        for (key, form) in entries {
            let key = INI_KEYS[*key];
            let value = match key.to_ascii_lowercase().as_str() {
                "type" => {
                    ["access_key", "sts", "ram_role_arn", "ecs_ram_role", "bearer", ""][*form % 6].to_owned()
                }
                "access_key_secret" => case.secret.clone(),
                "security_token" => case.token.clone(),
                "role_session_expiration" => {
                    ["3600", "0", "899", "-1", "1e9", "99999999999"][*form % 6].to_owned()
                }
                _ => "value".to_owned(),
            };
            lines.push(format!("{key} = {}", INI_VALUE_FORMS[*form].replace("{}", &value)));
        }
    }
    let mut text_prefix = "";
    let mut newline = "\n";
    for edit in &case.edits {
        match edit {
            IniEdit::DropLine(at) if !lines.is_empty() => {
                lines.remove(at.index(lines.len()));
            }
            IniEdit::DuplicateLine(at) if !lines.is_empty() => {
                let at = at.index(lines.len());
                lines.insert(at, lines[at].clone());
            }
            IniEdit::InsertLine(at, line) => lines.insert(at.index(lines.len() + 1), line.clone()),
            IniEdit::Crlf => newline = "\r\n",
            IniEdit::Bom => text_prefix = "\u{feff}",
            IniEdit::DropLine(_) | IniEdit::DuplicateLine(_) | IniEdit::Truncate(_) => {}
        }
    }
    let mut text = format!("{text_prefix}{}", lines.join(newline));
    if let Some(IniEdit::Truncate(at)) = case.edits.iter().find(|e| matches!(e, IniEdit::Truncate(_))) {
        let mut at = at.index(text.len() + 1);
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        text.truncate(at);
    }
    text
}

#[test]
fn credentials_file() {
    let path = Path::new("/home/u/.alibabacloud/credentials");
    let strategy = prop_oneof![
        6 => ini_case().prop_map(|case| (case, None)),
        1 => (ini_case(), prop_oneof![unicode(200), nasty_value()]).prop_map(|(case, text)| (case, Some(text))),
    ];
    fuzz("config/credentials-ini", strategy, |f, (case, raw)| {
        let text = raw.clone().unwrap_or_else(|| ini_text(&case));
        let result = f.call(|| parse_credentials_file(&text, path))?;
        check_no_secret(&result, [&case.secret, &case.token])?;
        if let Err(e) = &result {
            prop_assert!(matches!(e, ImportError::Ini { line, .. } if *line >= 1), "{e:?}");
        }
        if raw.is_none() && case.edits.is_empty() {
            // Unedited files are well-formed: one profile per distinct section name.
            let mut names: Vec<&str> = case.sections.iter().map(|(n, _)| n.trim()).collect();
            names.sort_unstable();
            names.dedup();
            if names.iter().all(|n| !n.is_empty()) {
                let profiles = result.map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(profiles.len(), names.len());
            }
        }
        Ok(())
    });
}

// =============================================================================================
// 5. Disk-image sniffer
// =============================================================================================

#[derive(Clone, Copy, Debug)]
enum Layout {
    Random,
    Qcow2,
    VhdAtEnd,
    VhdAtStart,
    VmdkSparse,
    VmdkText,
    Vdi,
    Mbr,
    Gpt512,
    Gpt4096,
    Iso,
}

/// What `file_size` claims, relative to the bytes really there.
#[derive(Clone, Copy, Debug)]
enum SizeClaim {
    Exact,
    Larger(u64),
    Smaller(prop::sample::Index),
    Huge,
    Max,
}

#[derive(Clone, Debug)]
struct DiskCase {
    layout: Layout,
    len: usize,
    /// Header fields, in the order each layout uses them.
    fields: [u64; 8],
    /// Random bytes over the built header: (offset, bytes).
    patches: Vec<(prop::sample::Index, Vec<u8>)>,
    seed: u64,
    claim: SizeClaim,
}

/// Values that break size arithmetic.
fn header_field() -> impl Strategy<Value = u64> {
    prop_oneof![
        prop::sample::select(vec![
            0,
            1,
            2,
            3,
            4,
            128,
            511,
            512,
            4096,
            1 << 30,
            1 << 32,
            u64::from(u32::MAX),
            u64::MAX / 512,
            u64::MAX / 512 + 1,
            u64::MAX / 2,
            u64::MAX,
        ]),
        0u64..70_000,
        any::<u64>(),
    ]
}

fn disk_case() -> impl Strategy<Value = DiskCase> {
    let layout = prop::sample::select(vec![
        Layout::Random,
        Layout::Qcow2,
        Layout::VhdAtEnd,
        Layout::VhdAtStart,
        Layout::VmdkSparse,
        Layout::VmdkText,
        Layout::Vdi,
        Layout::Mbr,
        Layout::Gpt512,
        Layout::Gpt4096,
        Layout::Iso,
    ]);
    let len = prop_oneof![0usize..600, 0usize..9000, 32_700usize..34_000, 60_000usize..70_000];
    let claim = prop_oneof![
        3 => Just(SizeClaim::Exact),
        1 => (1u64..1 << 44).prop_map(SizeClaim::Larger),
        1 => any::<prop::sample::Index>().prop_map(SizeClaim::Smaller),
        1 => Just(SizeClaim::Huge),
        1 => Just(SizeClaim::Max),
    ];
    (
        layout,
        len,
        prop::array::uniform8(header_field()),
        prop::collection::vec(
            (any::<prop::sample::Index>(), prop::collection::vec(any::<u8>(), 1..16)),
            0..4,
        ),
        any::<u64>(),
        claim,
    )
        .prop_map(|(layout, len, fields, patches, seed, claim)| DiskCase {
            layout,
            len,
            fields,
            patches,
            seed,
            claim,
        })
}

fn put(buf: &mut [u8], at: usize, data: &[u8]) {
    if let Some(slot) = at.checked_add(data.len()).and_then(|end| buf.get_mut(at..end)) {
        slot.copy_from_slice(data);
    }
}

fn disk_bytes(case: &DiskCase) -> Vec<u8> {
    let mut buf = vec![0u8; case.len];
    let [a, b, c, d, e, g, h, i] = case.fields;
    let (a32, b32, c32, d32) = (a as u32, b as u32, c as u32, d as u32);
    let creators: [&[u8; 4]; 4] = [b"qemu", b"win ", b"vpc ", b"qem2"];
    let vhd = |buf: &mut Vec<u8>, at: usize| {
        put(buf, at, b"conectix");
        put(buf, at + 28, creators[(h % 4) as usize]);
        put(buf, at + 48, &a.to_be_bytes());
        put(buf, at + 56, &(b as u16).to_be_bytes());
        put(buf, at + 58, &[c as u8, d as u8]);
        put(buf, at + 60, &[2u32, 3, 4, e as u32][(g % 4) as usize].to_be_bytes());
    };
    match case.layout {
        Layout::Random => {
            // xorshift: quick noise for whole buffers (proptest would generate byte by byte).
            let mut x = case.seed | 1;
            for byte in &mut buf {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *byte = x as u8;
            }
        }
        Layout::Qcow2 => {
            // Bits of `h` pick clean or hostile values, so importable images occur too.
            let pick = |bit: u32, hostile: u64| if h >> bit & 1 == 1 { hostile } else { 0 };
            put(&mut buf, 0, b"QFI\xfb");
            put(&mut buf, 4, &[2u32, 3, 3, 1, a32][(h % 5) as usize].to_be_bytes());
            put(&mut buf, 8, &pick(8, b).to_be_bytes()); // backing file offset
            put(&mut buf, 16, &c32.to_be_bytes()); // backing file length
            put(&mut buf, 20, &16u32.to_be_bytes());
            put(&mut buf, 24, &[d, d % (4 << 40)][(h >> 9 & 1) as usize].to_be_bytes()); // virtual size
            put(&mut buf, 32, &(pick(10, e) as u32 & 3).to_be_bytes()); // crypt method
            put(&mut buf, 36, &g.to_be_bytes()); // L1 size + L1 offset (never to be trusted)
            put(&mut buf, 72, &(pick(11, i) & 0x3f).to_be_bytes()); // incompatible features
            put(&mut buf, 100, &(104 + (h >> 12) as u32 % 16).to_be_bytes());
            put(&mut buf, 104, &[(h >> 16) as u8]);
            if let Ok(at) = usize::try_from(b) {
                put(&mut buf, at, b"base.qcow");
            }
        }
        Layout::VhdAtEnd => {
            let at = case.len.saturating_sub(512);
            vhd(&mut buf, at);
        }
        Layout::VhdAtStart => vhd(&mut buf, 0),
        Layout::VmdkSparse => {
            put(&mut buf, 0, b"KDMV");
            put(&mut buf, 4, &1u32.to_le_bytes());
            put(&mut buf, 12, &a.to_le_bytes()); // capacity (sectors)
            put(&mut buf, 28, &[b, 1, b % 128][(h % 3) as usize].to_le_bytes()); // descriptor offset
            put(&mut buf, 36, &[c, 1, 20][(h / 3 % 3) as usize].to_le_bytes()); // descriptor size
            let text = format!("# Disk DescriptorFile\ncreateType=\"monolithicSparse\"\nparentCID={d:x}\n");
            put(&mut buf, 512, text.as_bytes());
        }
        Layout::VmdkText => {
            let mut text = format!(
                "  # Disk DescriptorFile\nversion=1\nparentCID={:x}\ncreateType=\"x{e}\"\n",
                d % 3 * 0xffff_ffff
            );
            for n in 0..(h % 6) {
                let access = ["RW", "RDONLY", "NOACCESS", "rw"][(n % 4) as usize];
                text.push_str(&format!(
                    "{access} {} SPARSE \"disk s{n}.vmdk\"\n",
                    [a, b, c, u64::MAX][(n % 4) as usize]
                ));
            }
            put(&mut buf, 0, text.as_bytes());
        }
        Layout::Vdi => {
            put(&mut buf, 0, b"<<< Oracle VM VirtualBox Disk Image >>>\n");
            put(&mut buf, 64, &0xbeda_107fu32.to_le_bytes());
            put(&mut buf, 68, &[0x0001_0001, a32][(h % 2) as usize].to_le_bytes());
            put(&mut buf, 76, &b32.to_le_bytes());
            put(&mut buf, 368, &c.to_le_bytes());
        }
        Layout::Mbr | Layout::Gpt512 | Layout::Gpt4096 => {
            for n in 0..4usize {
                let entry = 446 + 16 * n;
                let status = [0u8, 0x80, (a >> (8 * n)) as u8][(h >> (2 * n)) as usize % 3];
                let kind = [0xEEu8, 0xEF, 0x83, 0, (b >> (8 * n)) as u8][(g >> (3 * n)) as usize % 5];
                put(&mut buf, entry, &[status, 0, 0, 0, kind]);
            }
            put(&mut buf, 510, b"\x55\xaa");
            if !matches!(case.layout, Layout::Mbr) {
                let sector = if matches!(case.layout, Layout::Gpt512) { 512 } else { 4096 };
                put(&mut buf, sector, b"EFI PART");
                put(&mut buf, sector + 72, &c.to_le_bytes()); // entries LBA
                put(&mut buf, sector + 80, &d32.to_le_bytes()); // entry count
                let size = [128u32, 127, 4096, 4097, 0, e as u32][(i % 6) as usize];
                put(&mut buf, sector + 84, &size.to_le_bytes());
                let esp = [
                    0x28u8, 0x73, 0x2A, 0xC1, 0x1F, 0xF8, 0xD2, 0x11, 0xBA, 0x4B, 0x00, 0xA0, 0xC9, 0x3E,
                    0xC9, 0x3B,
                ];
                if let Some(at) = c.checked_mul(sector as u64).and_then(|at| usize::try_from(at).ok()) {
                    put(&mut buf, at, &esp);
                }
            }
        }
        Layout::Iso => put(&mut buf, 0x8001, b"CD001"),
    }
    if !buf.is_empty() {
        for (at, bytes) in &case.patches {
            let at = at.index(buf.len());
            let end = (at + bytes.len()).min(buf.len());
            buf[at..end].copy_from_slice(&bytes[..end - at]);
        }
    }
    buf
}

#[test]
fn disk_image_sniffer() {
    fuzz("sniff/disk-images", disk_case(), |f, case| {
        let bytes = disk_bytes(&case);
        let len = bytes.len() as u64;
        let claimed = match case.claim {
            SizeClaim::Exact => len,
            SizeClaim::Larger(n) => len.saturating_add(n),
            SizeClaim::Smaller(at) => at.index(bytes.len() + 1) as u64,
            SizeClaim::Huge => u64::MAX / 2,
            SizeClaim::Max => u64::MAX,
        };
        let mut reader = Cursor::new(bytes);
        let s =
            f.call(|| sniff_reader(&mut reader, claimed))?.map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(s.file_size, claimed);
        if s.virtual_size == 0 || matches!(s.kind, DiskKind::Iso | DiskKind::Unknown { .. }) {
            prop_assert_eq!(s.min_disk_image_size_gib, None);
        }
        if s.fits_ecs.is_ok() {
            prop_assert!(s.ecs_format.is_some(), "{s:?}");
            prop_assert!(s.min_disk_image_size_gib.is_some_and(|g| (1..=2048).contains(&g)), "{s:?}");
            let gib = u64::from(s.min_disk_image_size_gib.unwrap_or_default());
            prop_assert!(gib << 30 >= s.virtual_size, "{s:?}");
        }
        if s.fits_ens.is_ok() {
            prop_assert!(matches!(s.kind, DiskKind::Qcow2 { .. }) && s.virtual_size > 0, "{s:?}");
        }
        for refusal in [s.fits_ecs.as_ref().err(), s.fits_ens.as_ref().err()].into_iter().flatten() {
            prop_assert!(!refusal.en.is_empty() && !refusal.zh.is_empty());
        }
        for w in &s.warnings {
            prop_assert!(!w.en.is_empty() && !w.zh.is_empty() && w.en.len() < 2_000, "{w:?}");
        }
        if let DiskKind::Unknown { description } = &s.kind {
            prop_assert!(!description.is_empty() && description.len() < 500, "{description:?}");
        }
        Ok(())
    });
}

// =============================================================================================
// 6. Signing layer: the Authorization header parsers (the sandbox reads them from clients)
// =============================================================================================

#[test]
fn authorization_headers() {
    let header_name = alnum(1, 12).prop_map(|s| s.to_ascii_lowercase());
    let strategy = (
        prop_oneof![
            unicode(60),
            nasty_value(),
            alnum(0, 20).prop_map(|s| format!("ACS3-HMAC-SHA256 {s}=,=;"))
        ],
        alnum(1, 40),
        prop::collection::vec(header_name, 1..6),
        alnum(1, 64),
    );
    fuzz("sign/authorization", strategy, |f, (text, id, headers, signature)| {
        if let Some(a) = f.call(|| acs3::parse_authorization(&text))? {
            prop_assert!(text.trim().starts_with("ACS3-HMAC-SHA256 "), "{text:?}");
            prop_assert!(a.signed_headers.iter().all(|h| *h == h.to_ascii_lowercase()));
        }
        if let Some((id, sig)) = f.call(|| oss_v1::parse_authorization(&text))? {
            let pair = format!("{id}:{sig}");
            prop_assert!(!id.is_empty() && !sig.is_empty() && text.contains(&pair), "{:?}", text);
        }
        // What the signers write, the parsers read back.
        let written = acs3::authorization(&id, &headers.join(";"), &signature);
        let parsed = f.call(|| acs3::parse_authorization(&written))?;
        prop_assert_eq!(
            parsed.map(|a| (a.access_key_id, a.signed_headers, a.signature)),
            Some((id.clone(), headers, signature.clone()))
        );
        let written = oss_v1::authorization(&id, &signature);
        prop_assert_eq!(f.call(|| oss_v1::parse_authorization(&written))?, Some((id, signature)));
        Ok(())
    });
}
