#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Fixtures made by `qemu-img create` (Debian `qemu-utils`; `.ci/run` installs it), sniffed and
//! checked against `qemu-img info --output=json` on format and virtual size.

use std::path::{Path, PathBuf};
use std::process::Command;

use imagedesk::jobs::sniff::{
    DiskKind, PartitionTable, Qcow2Compression, Sniffed, VhdSubtype, VmdkVariant, sniff_path,
};
use imagedesk::protocol::ops::ecs::{BootMode, ImageFormat};

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("imagedesk-sniff-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn qemu_img(args: &[&str], dir: &Path) {
    let out = Command::new("qemu-img").args(args).current_dir(dir).output().unwrap_or_else(|e| {
        panic!(
            "cannot run qemu-img ({e}); install Debian's qemu-utils (`apt-get install qemu-utils`) — .ci/run does"
        )
    });
    assert!(out.status.success(), "qemu-img {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// `(format, virtual-size)` as qemu sees the file.
fn qemu_info(path: &Path, extra: &[&str]) -> (String, u64) {
    let out = Command::new("qemu-img")
        .arg("info")
        .args(extra)
        .arg("--output=json")
        .arg(path)
        .output()
        .expect("run qemu-img info");
    assert!(out.status.success(), "qemu-img info {path:?}: {}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    (v["format"].as_str().unwrap().to_string(), v["virtual-size"].as_u64().unwrap())
}

/// Sniffs `name` and asserts agreement with qemu on format and virtual size.
fn sniff_agrees(dir: &TempDir, name: &str, qemu_extra: &[&str]) -> Sniffed {
    let path = dir.path(name);
    let s = sniff_path(&path).unwrap();
    let (format, size) = qemu_info(&path, qemu_extra);
    let ours = match s.kind {
        DiskKind::Qcow2 { .. } => "qcow2",
        DiskKind::Vhd { .. } => "vpc",
        DiskKind::Vmdk { .. } => "vmdk",
        DiskKind::Vdi { .. } => "vdi",
        DiskKind::Raw { .. } => "raw",
        DiskKind::Iso | DiskKind::Unknown { .. } => "?",
    };
    assert_eq!(ours, format, "{name}: {s:#?}");
    assert_eq!(s.virtual_size, size, "{name}: virtual size vs qemu-img info");
    assert_eq!(s.file_size, std::fs::metadata(&path).unwrap().len());
    s
}

fn require_qemu_img() {
    let found = Command::new("qemu-img").arg("--version").output().is_ok_and(|o| o.status.success());
    assert!(
        found,
        "qemu-img is not on PATH: install Debian's qemu-utils (`apt-get install qemu-utils`); .ci/run does this in CI"
    );
}

const GIB: u64 = 1 << 30;

#[test]
fn qcow2_v2_and_v3() {
    require_qemu_img();
    let dir = TempDir::new("qcow2");
    qemu_img(&["create", "-q", "-f", "qcow2", "-o", "compat=0.10", "v2.qcow2", "1G"], &dir.0);
    qemu_img(&["create", "-q", "-f", "qcow2", "-o", "compat=1.1", "v3.qcow2", "100G"], &dir.0);
    let v2 = sniff_agrees(&dir, "v2.qcow2", &[]);
    assert!(matches!(v2.kind, DiskKind::Qcow2 { version: 2, encrypted: false, backing_file: None, .. }));
    assert_eq!(v2.ecs_format, Some(ImageFormat::Qcow2));
    assert_eq!(v2.min_disk_image_size_gib, Some(1));
    assert_eq!(v2.fits_ecs, Ok(()));
    assert_eq!(v2.fits_ens, Ok(()));
    let v3 = sniff_agrees(&dir, "v3.qcow2", &[]);
    assert!(matches!(v3.kind, DiskKind::Qcow2 { version: 3, dirty: false, .. }));
    assert_eq!(v3.virtual_size, 100 * GIB);
    assert_eq!(v3.min_disk_image_size_gib, Some(100));
    assert!(v3.fits_ecs.is_ok() && v3.fits_ens.is_ok());
}

#[test]
fn qcow2_with_backing_file_is_refused() {
    require_qemu_img();
    let dir = TempDir::new("backing");
    qemu_img(&["create", "-q", "-f", "qcow2", "base.qcow2", "10G"], &dir.0);
    qemu_img(&["create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", "overlay.qcow2"], &dir.0);
    let s = sniff_agrees(&dir, "overlay.qcow2", &[]);
    let DiskKind::Qcow2 { backing_file, .. } = &s.kind else { panic!("{s:#?}") };
    assert_eq!(backing_file.as_deref(), Some("base.qcow2"));
    let ecs = s.fits_ecs.unwrap_err();
    assert!(ecs.en.contains("base.qcow2") && ecs.en.contains("qemu-img convert"), "{ecs:?}");
    assert!(s.fits_ens.is_err());
}

#[test]
fn encrypted_qcow2_is_refused() {
    require_qemu_img();
    let dir = TempDir::new("luks");
    qemu_img(
        &[
            "create",
            "-q",
            "--object",
            "secret,id=s0,data=x",
            "-f",
            "qcow2",
            "-o",
            "encrypt.format=luks,encrypt.key-secret=s0",
            "enc.qcow2",
            "1G",
        ],
        &dir.0,
    );
    let s = sniff_agrees(&dir, "enc.qcow2", &[]);
    assert!(matches!(s.kind, DiskKind::Qcow2 { encrypted: true, .. }), "{s:#?}");
    assert!(s.fits_ecs.unwrap_err().en.contains("encrypted"));
    assert!(s.fits_ens.is_err());
}

#[test]
fn qcow2_zstd_compression_type_warns() {
    require_qemu_img();
    let dir = TempDir::new("zstd");
    let made = Command::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2", "-o", "compression_type=zstd", "z.qcow2", "1G"])
        .current_dir(&dir.0)
        .output()
        .unwrap();
    if !made.status.success() {
        eprintln!("qemu-img built without zstd; skipping");
        return;
    }
    let s = sniff_agrees(&dir, "z.qcow2", &[]);
    assert!(matches!(s.kind, DiskKind::Qcow2 { compression: Qcow2Compression::Zstd, .. }), "{s:#?}");
    assert!(s.fits_ecs.is_ok());
    assert!(s.warnings.iter().any(|w| w.en.contains("zstd")));
}

#[test]
fn vhd_dynamic_and_fixed() {
    require_qemu_img();
    let dir = TempDir::new("vhd");
    qemu_img(&["create", "-q", "-f", "vpc", "-o", "subformat=dynamic", "dyn.vhd", "10G"], &dir.0);
    qemu_img(&["create", "-q", "-f", "vpc", "-o", "subformat=fixed", "fixed.vhd", "1G"], &dir.0);
    qemu_img(
        &["create", "-q", "-f", "vpc", "-o", "subformat=fixed,force_size=on", "forced.vhd", "1G"],
        &dir.0,
    );
    let d = sniff_agrees(&dir, "dyn.vhd", &[]);
    assert_eq!(d.kind, DiskKind::Vhd { subtype: VhdSubtype::Dynamic });
    assert_eq!(d.ecs_format, Some(ImageFormat::Vhd));
    assert!(d.fits_ecs.is_ok());
    assert!(d.fits_ens.unwrap_err().en.contains("qcow2"));
    // qemu probes a fixed VHD as raw unless told; compare with the vpc driver forced.
    let f = sniff_agrees(&dir, "fixed.vhd", &["-f", "vpc"]);
    assert_eq!(f.kind, DiskKind::Vhd { subtype: VhdSubtype::Fixed });
    assert!(f.fits_ecs.is_ok());
    let forced = sniff_agrees(&dir, "forced.vhd", &["-f", "vpc"]);
    assert_eq!(forced.virtual_size, GIB);
}

#[test]
fn vmdk_sparse_and_descriptor() {
    require_qemu_img();
    let dir = TempDir::new("vmdk");
    qemu_img(
        &["create", "-q", "-f", "vmdk", "-o", "subformat=monolithicSparse", "sparse.vmdk", "100G"],
        &dir.0,
    );
    qemu_img(
        &["create", "-q", "-f", "vmdk", "-o", "subformat=streamOptimized", "stream.vmdk", "10G"],
        &dir.0,
    );
    qemu_img(&["create", "-q", "-f", "vmdk", "-o", "subformat=monolithicFlat", "flat.vmdk", "10G"], &dir.0);
    let s = sniff_agrees(&dir, "sparse.vmdk", &[]);
    assert_eq!(
        s.kind,
        DiskKind::Vmdk { variant: VmdkVariant::Sparse { create_type: Some("monolithicSparse".into()) } }
    );
    assert_eq!(s.ecs_format, Some(ImageFormat::Vmdk));
    assert!(s.fits_ecs.is_ok());
    assert!(s.warnings.iter().any(|w| w.en.contains("preview")));
    let st = sniff_agrees(&dir, "stream.vmdk", &[]);
    assert_eq!(
        st.kind,
        DiskKind::Vmdk { variant: VmdkVariant::Sparse { create_type: Some("streamOptimized".into()) } }
    );
    let d = sniff_agrees(&dir, "flat.vmdk", &[]);
    let DiskKind::Vmdk { variant: VmdkVariant::Descriptor { create_type, extents, has_parent } } = &d.kind
    else {
        panic!("{d:#?}")
    };
    assert_eq!(create_type.as_deref(), Some("monolithicFlat"));
    assert!(!has_parent);
    assert_eq!(extents.len(), 1);
    assert_eq!(extents[0].file.as_deref(), Some("flat-flat.vmdk"));
    assert!(d.fits_ecs.unwrap_err().en.contains("monolithicSparse"));
    // The flat extent alone is a raw disk (blank here, hence a warning).
    let flat = sniff_agrees(&dir, "flat-flat.vmdk", &[]);
    assert!(matches!(flat.kind, DiskKind::Raw { partition_table: PartitionTable::None, .. }));
    assert!(!flat.warnings.is_empty());
}

#[test]
fn vdi_is_refused_with_conversion_advice() {
    require_qemu_img();
    let dir = TempDir::new("vdi");
    qemu_img(&["create", "-q", "-f", "vdi", "d.vdi", "10G"], &dir.0);
    let s = sniff_agrees(&dir, "d.vdi", &[]);
    assert!(matches!(s.kind, DiskKind::Vdi { .. }));
    assert_eq!(s.ecs_format, None);
    assert_eq!(s.min_disk_image_size_gib, Some(10));
    let r = s.fits_ecs.unwrap_err();
    assert!(r.en.contains("qemu-img convert -O qcow2") && r.zh.contains("qemu-img convert -O qcow2"));
}

#[test]
fn blank_raw() {
    require_qemu_img();
    let dir = TempDir::new("raw");
    qemu_img(&["create", "-q", "-f", "raw", "blank.raw", "100G"], &dir.0);
    let start = std::time::Instant::now();
    let s = sniff_agrees(&dir, "blank.raw", &[]);
    assert!(start.elapsed() < std::time::Duration::from_secs(1), "sniffing must not read the whole file");
    assert_eq!(
        s.kind,
        DiskKind::Raw { partition_table: PartitionTable::None, has_esp: false, has_bios_boot: false }
    );
    assert_eq!(s.ecs_format, Some(ImageFormat::Raw));
    assert_eq!(s.min_disk_image_size_gib, Some(100));
    assert_eq!(s.boot_mode_hint, None);
    assert!(s.warnings.iter().any(|w| w.en.contains("No partition table")));
}

/// Writes a protective MBR, a GPT header and one ESP entry into a blank raw file.
fn write_gpt_with_esp(path: &Path) {
    use std::io::{Seek, SeekFrom, Write};
    let size = std::fs::metadata(path).unwrap().len();
    let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    let mut mbr = [0u8; 512];
    mbr[446 + 4] = 0xEE;
    mbr[446 + 8..446 + 12].copy_from_slice(&1u32.to_le_bytes());
    let sectors = u32::try_from(size / 512 - 1).unwrap_or(u32::MAX);
    mbr[446 + 12..446 + 16].copy_from_slice(&sectors.to_le_bytes());
    mbr[510] = 0x55;
    mbr[511] = 0xAA;
    f.write_all(&mbr).unwrap();
    let mut hdr = [0u8; 512];
    hdr[..8].copy_from_slice(b"EFI PART");
    hdr[8..12].copy_from_slice(&0x0001_0000u32.to_le_bytes());
    hdr[12..16].copy_from_slice(&92u32.to_le_bytes());
    hdr[72..80].copy_from_slice(&2u64.to_le_bytes());
    hdr[80..84].copy_from_slice(&128u32.to_le_bytes());
    hdr[84..88].copy_from_slice(&128u32.to_le_bytes());
    f.write_all(&hdr).unwrap();
    let mut entry = [0u8; 128];
    // C12A7328-F81F-11D2-BA4B-00A0C93EC93B in GPT's mixed-endian layout.
    entry[..16].copy_from_slice(&[
        0x28, 0x73, 0x2A, 0xC1, 0x1F, 0xF8, 0xD2, 0x11, 0xBA, 0x4B, 0x00, 0xA0, 0xC9, 0x3E, 0xC9, 0x3B,
    ]);
    entry[32..40].copy_from_slice(&2048u64.to_le_bytes());
    entry[40..48].copy_from_slice(&206_847u64.to_le_bytes());
    f.seek(SeekFrom::Start(1024)).unwrap();
    f.write_all(&entry).unwrap();
}

#[test]
fn raw_gpt_with_esp_hints_uefi() {
    require_qemu_img();
    let dir = TempDir::new("gpt");
    qemu_img(&["create", "-q", "-f", "raw", "uefi.raw", "10G"], &dir.0);
    write_gpt_with_esp(&dir.path("uefi.raw"));
    let s = sniff_agrees(&dir, "uefi.raw", &[]);
    assert_eq!(
        s.kind,
        DiskKind::Raw { partition_table: PartitionTable::Gpt, has_esp: true, has_bios_boot: false }
    );
    assert_eq!(s.boot_mode_hint, Some(BootMode::Uefi));
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    assert!(s.fits_ecs.is_ok());
    // Converted to qcow2 it is still importable; the hint needs the payload, so none is given.
    qemu_img(&["convert", "-q", "-O", "qcow2", "uefi.raw", "uefi.qcow2"], &dir.0);
    let q = sniff_agrees(&dir, "uefi.qcow2", &[]);
    assert_eq!(q.virtual_size, 10 * GIB);
    assert!(q.fits_ens.is_ok());
}
