//! Pre-flight sniffing of a local disk image file before upload and import.
//!
//! Only headers and footers are read (a few bounded reads, at most [`HEAD_LEN`] bytes each), so a
//! 100 GB image sniffs in milliseconds. The result maps to ImportImage fields: ECS
//! `DiskDeviceMapping.N.Format` and the minimum `DiskImageSize` (apis.md §1.2), a `BootMode` hint,
//! and whether ECS and ENS (qcow2 only, apis.md §2.1) would accept the file, with bilingual,
//! actionable reasons when not. Parsing never panics: every offset comes from the file, so all
//! arithmetic on it is checked and every slice access is bounds-checked.

use std::fmt;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::protocol::ops::ecs::{BootMode, ImageFormat};

const GIB: u64 = 1 << 30;
const SECTOR: u64 = 512;
/// Largest ECS `DiskImageSize`, in GiB (apis.md §1.2).
pub const ECS_MAX_DISK_IMAGE_SIZE_GIB: u32 = 2048;
/// First read: covers the ISO 9660 volume descriptor (0x8001), GPT headers and entries for 512-
/// and 4096-byte sectors, and a typical embedded VMDK descriptor.
const HEAD_LEN: u64 = 64 * 1024;
/// Cap for any further read driven by an offset or length found in the file.
const MAX_EXTRA_READ: u64 = 1024 * 1024;

/// What the file is, with the format details that decide importability.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DiskKind {
    Qcow2 {
        /// Header version: 2 (`compat=0.10`) or 3 (`compat=1.1`); others are refused.
        version: u32,
        /// `crypt_method` nonzero (legacy AES or LUKS).
        encrypted: bool,
        /// Name of the backing file, if the image is an overlay. `Some("")` if unreadable.
        backing_file: Option<String>,
        /// v3 incompatible feature bit 0: not closed cleanly, refcounts may be stale.
        dirty: bool,
        /// v3 incompatible feature bit 1: qemu found the image corrupt.
        corrupt: bool,
        /// v3 incompatible feature bit 2: guest data lives in a separate raw file.
        external_data_file: bool,
        /// Algorithm for compressed clusters. Whether any cluster *is* compressed cannot be told
        /// without walking the L2 tables, so that is not reported.
        compression: Qcow2Compression,
    },
    Vhd {
        subtype: VhdSubtype,
    },
    Vmdk {
        variant: VmdkVariant,
    },
    Vdi {
        /// VDI image type: 1 dynamic, 2 fixed, 3 undo, 4 differencing.
        image_type: u32,
    },
    Raw {
        partition_table: PartitionTable,
        /// An EFI system partition exists (MBR type 0xEF or the GPT ESP type GUID).
        has_esp: bool,
        /// A GPT BIOS boot partition (GRUB's `bios_grub`) exists.
        has_bios_boot: bool,
    },
    /// ISO 9660 (installer or live media), not a disk.
    Iso,
    /// Not importable; `description` names what was recognised or shows the first bytes.
    Unknown {
        description: String,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Qcow2Compression {
    Zlib,
    Zstd,
    /// A compression type byte this sniffer does not know.
    Other(u8),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VhdSubtype {
    Fixed,
    Dynamic,
    /// Depends on a parent VHD.
    Differencing,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VmdkVariant {
    /// Hosted sparse extent with a `KDMV` header; `create_type` from its embedded descriptor
    /// (`monolithicSparse`, `streamOptimized`, …) when present.
    Sparse { create_type: Option<String> },
    /// A text descriptor that references extent files (`monolithicFlat`, `twoGbMaxExtent*`, …).
    Descriptor { create_type: Option<String>, extents: Vec<VmdkExtent>, has_parent: bool },
}

/// One `RW <sectors> <TYPE> "<file>"` line of a VMDK descriptor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VmdkExtent {
    pub access: String,
    pub sectors: u64,
    pub kind: String,
    pub file: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartitionTable {
    Mbr,
    Gpt,
    None,
}

/// A bilingual (English, Simplified Chinese) reason why a product will not accept the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub en: String,
    pub zh: String,
}

/// A bilingual note that does not block the import but deserves a look.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    pub en: String,
    pub zh: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.en)
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.en)
    }
}

fn refusal(en: impl Into<String>, zh: impl Into<String>) -> Refusal {
    Refusal { en: en.into(), zh: zh.into() }
}

fn warning(en: impl Into<String>, zh: impl Into<String>) -> Warning {
    Warning { en: en.into(), zh: zh.into() }
}

/// The verdict on one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sniffed {
    pub kind: DiskKind,
    /// Size of the disk the guest sees, in bytes (0 when unknown, e.g. for [`DiskKind::Unknown`]).
    pub virtual_size: u64,
    /// Size of the file itself, in bytes.
    pub file_size: u64,
    /// ECS `DiskDeviceMapping.N.Format` for this kind, even if the file is refused for other
    /// reasons; `None` for kinds ECS has no format for (VDI, ISO, unknown).
    pub ecs_format: Option<ImageFormat>,
    /// Smallest `DiskImageSize` (GiB) that holds the virtual disk: ceil(virtual / GiB), at least 1.
    /// `None` when the virtual size is unknown or does not fit a `u32`.
    pub min_disk_image_size_gib: Option<u32>,
    /// `BootMode` suggested by the partition table (raw images only; other formats need their
    /// payload decoded, which this sniffer does not do).
    pub boot_mode_hint: Option<BootMode>,
    pub fits_ecs: Result<(), Refusal>,
    pub fits_ens: Result<(), Refusal>,
    pub warnings: Vec<Warning>,
}

#[derive(Debug, thiserror::Error)]
pub enum SniffError {
    #[error("cannot read {}: {source}", path.display())]
    Path {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{} is not a regular file", path.display())]
    NotAFile { path: PathBuf },
    #[error("cannot read the image: {0}")]
    Io(#[from] io::Error),
}

/// Sniffs the file at `path`. I/O errors name the path.
pub fn sniff_path(path: &Path) -> Result<Sniffed, SniffError> {
    let with_path = |source| SniffError::Path { path: path.to_path_buf(), source };
    let mut file = File::open(path).map_err(with_path)?;
    let meta = file.metadata().map_err(with_path)?;
    if !meta.is_file() {
        return Err(SniffError::NotAFile { path: path.to_path_buf() });
    }
    sniff_reader(&mut file, meta.len()).map_err(|e| match e {
        SniffError::Io(source) => with_path(source),
        other => other,
    })
}

/// Sniffs an image of `file_size` bytes read through `r`.
pub fn sniff_reader<R: Read + Seek>(r: &mut R, file_size: u64) -> Result<Sniffed, SniffError> {
    let head = read_at(r, 0, HEAD_LEN, file_size)?;
    let tail_start = file_size.saturating_sub(SECTOR);
    let tail = if tail_start == 0 {
        head.get(..512).unwrap_or(&head).to_vec()
    } else {
        read_at(r, tail_start, SECTOR, file_size)?
    };
    let mut warnings = Vec::new();
    let (kind, virtual_size, extra_min) = detect(r, file_size, &head, &tail, &mut warnings)?;
    Ok(finish(kind, virtual_size, extra_min, file_size, warnings))
}

/// Reads up to `len` bytes at `offset`, fewer at end of file; never past `file_size`.
fn read_at<R: Read + Seek>(r: &mut R, offset: u64, len: u64, file_size: u64) -> io::Result<Vec<u8>> {
    let len = len.min(file_size.saturating_sub(offset));
    if len == 0 {
        return Ok(Vec::new());
    }
    r.seek(SeekFrom::Start(offset))?;
    let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    r.by_ref().take(len).read_to_end(&mut buf)?;
    Ok(buf)
}

fn bytes<const N: usize>(b: &[u8], at: usize) -> Option<[u8; N]> {
    b.get(at..at.checked_add(N)?)?.try_into().ok()
}
fn be_u32(b: &[u8], at: usize) -> Option<u32> {
    bytes(b, at).map(u32::from_be_bytes)
}
fn be_u64(b: &[u8], at: usize) -> Option<u64> {
    bytes(b, at).map(u64::from_be_bytes)
}
fn le_u32(b: &[u8], at: usize) -> Option<u32> {
    bytes(b, at).map(u32::from_le_bytes)
}
fn le_u64(b: &[u8], at: usize) -> Option<u64> {
    bytes(b, at).map(u64::from_le_bytes)
}
fn has(b: &[u8], at: usize, magic: &[u8]) -> bool {
    at.checked_add(magic.len()).and_then(|end| b.get(at..end)) == Some(magic)
}

fn unknown(description: impl Into<String>) -> DiskKind {
    DiskKind::Unknown { description: description.into() }
}

/// `(kind, virtual size, a second size claim that the minimum DiskImageSize must also cover)`.
type Detected = (DiskKind, u64, u64);

fn detect<R: Read + Seek>(
    r: &mut R,
    file_size: u64,
    head: &[u8],
    tail: &[u8],
    warnings: &mut Vec<Warning>,
) -> io::Result<Detected> {
    if file_size == 0 {
        return Ok((unknown("an empty file"), 0, 0));
    }
    if has(head, 0, b"QFI\xfb") {
        return qcow2(r, file_size, head, warnings);
    }
    if has(head, 0, b"KDMV") {
        return vmdk_sparse(r, file_size, head, warnings);
    }
    if has(head, 0, b"COWD") {
        return Ok((unknown("a legacy ESX COWD sparse VMDK extent"), 0, 0));
    }
    if let Some(found) = vmdk_descriptor(head, warnings) {
        return Ok(found);
    }
    if has(head, 0, b"<<< ") && le_u32(head, 64) == Some(0xbeda_107f) {
        return Ok(vdi(head, warnings));
    }
    if has(tail, 0, b"conectix") {
        return Ok(vhd(tail, file_size, true, warnings));
    }
    if has(head, 0, b"conectix") {
        // Dynamic VHDs repeat the footer at the start; a missing end copy means truncation.
        warnings.push(warning(
            "The VHD footer is missing from the end of the file (only the copy at the start was found); \
             the file is probably truncated. Re-copy it or repair it with `qemu-img convert`.",
            "文件末尾缺少 VHD 尾部结构（仅在文件开头找到副本），文件可能被截断。请重新复制，或用 `qemu-img convert` 修复。",
        ));
        return Ok(vhd(head, file_size, false, warnings));
    }
    if let Some(what) = foreign_magic(head) {
        return Ok((unknown(what), 0, 0));
    }
    if has(head, 0x8001, b"CD001") {
        return Ok((DiskKind::Iso, file_size, 0));
    }
    if file_size < SECTOR {
        return Ok((
            unknown(format!("a {file_size}-byte file, too small to be a disk ({})", describe(head))),
            0,
            0,
        ));
    }
    if looks_like_text(head) {
        return Ok((unknown(format!("a text file ({})", describe(head))), 0, 0));
    }
    raw(r, file_size, head, warnings)
}

/// Other containers users pick by mistake, with what to do instead.
fn foreign_magic(head: &[u8]) -> Option<&'static str> {
    let table: [(usize, &[u8], &'static str); 12] = [
        (0, b"vhdxfile", "a VHDX (Hyper-V) image; convert it to VHD or qcow2 with `qemu-img convert`"),
        (0, b"QED\0", "a QED image; convert it to qcow2 with `qemu-img convert -O qcow2`"),
        (0, b"WithoutFreeSpace", "a Parallels image; convert it to qcow2 with `qemu-img convert -O qcow2`"),
        (0, b"WithouFreSpacExt", "a Parallels image; convert it to qcow2 with `qemu-img convert -O qcow2`"),
        (0, b"\x1f\x8b", "a gzip-compressed file; decompress it first"),
        (0, b"\xfd7zXZ\0", "an xz-compressed file; decompress it first"),
        (0, b"BZh", "a bzip2-compressed file; decompress it first"),
        (0, b"\x28\xb5\x2f\xfd", "a zstd-compressed file; decompress it first"),
        (0, b"PK\x03\x04", "a zip archive; extract the disk image first"),
        (0, b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive; extract the disk image first"),
        (257, b"ustar", "a tar archive (an OVA?); extract the .vmdk or other disk image first"),
        (0, b"\x7fELF", "an ELF executable, not a disk image"),
    ];
    table.iter().find(|(at, magic, _)| has(head, *at, magic)).map(|(_, _, what)| *what)
}

fn looks_like_text(head: &[u8]) -> bool {
    let sample = head.get(..512).unwrap_or(head);
    !sample.is_empty()
        && sample.iter().all(|&b| b == b'\n' || b == b'\r' || b == b'\t' || (0x20..0x7f).contains(&b))
}

/// The first 16 bytes as hex and printable ASCII, for "unknown" messages.
fn describe(head: &[u8]) -> String {
    let first = head.get(..16).unwrap_or(head);
    let hex: Vec<String> = first.iter().map(|b| format!("{b:02x}")).collect();
    let ascii: String =
        first.iter().map(|&b| if (0x20..0x7f).contains(&b) { b as char } else { '.' }).collect();
    format!("first bytes {} \"{ascii}\"", hex.join(" "))
}

fn qcow2<R: Read + Seek>(
    r: &mut R,
    file_size: u64,
    head: &[u8],
    warnings: &mut Vec<Warning>,
) -> io::Result<Detected> {
    let (Some(version), Some(size)) = (be_u32(head, 4), be_u64(head, 24)) else {
        return Ok((unknown(format!("a truncated qcow2 header ({file_size} bytes)")), 0, 0));
    };
    if version != 2 && version != 3 {
        let kind = DiskKind::Qcow2 {
            version,
            encrypted: false,
            backing_file: None,
            dirty: false,
            corrupt: false,
            external_data_file: false,
            compression: Qcow2Compression::Zlib,
        };
        return Ok((kind, size, 0));
    }
    let (Some(backing_off), Some(backing_len), Some(crypt)) =
        (be_u64(head, 8), be_u32(head, 16), be_u32(head, 32))
    else {
        return Ok((unknown(format!("a truncated qcow2 header ({file_size} bytes)")), 0, 0));
    };
    let backing_file = if backing_off == 0 {
        None
    } else {
        // qemu caps backing file names at 1023 bytes; anything beyond the file is unreadable.
        let name = if backing_len <= 1023
            && backing_off.checked_add(u64::from(backing_len)).is_some_and(|end| end <= file_size)
        {
            read_at(r, backing_off, u64::from(backing_len), file_size)?
        } else {
            Vec::new()
        };
        Some(String::from_utf8_lossy(&name).into_owned())
    };
    let (mut dirty, mut corrupt, mut external, mut compression) =
        (false, false, false, Qcow2Compression::Zlib);
    if version == 3 {
        let (Some(incompatible), Some(header_len)) = (be_u64(head, 72), be_u32(head, 100)) else {
            return Ok((unknown(format!("a truncated qcow2 v3 header ({file_size} bytes)")), 0, 0));
        };
        dirty = incompatible & 1 != 0;
        corrupt = incompatible & 2 != 0;
        external = incompatible & 4 != 0;
        if incompatible & 8 != 0 && header_len > 104 {
            compression = match head.get(104) {
                Some(0) => Qcow2Compression::Zlib,
                Some(1) => Qcow2Compression::Zstd,
                Some(&other) => Qcow2Compression::Other(other),
                None => Qcow2Compression::Other(0xff),
            };
        }
        let known = 0b1_1111;
        if incompatible & !known != 0 {
            warnings.push(warning(
                format!(
                    "The qcow2 header sets incompatible feature bits {:#x} this check does not know; \
                     the importer may not read the image. Consider `qemu-img convert -O qcow2 -o compat=1.1`.",
                    incompatible & !known
                ),
                format!(
                    "qcow2 头部设置了本检查无法识别的不兼容特性位 {:#x}，导入服务可能无法读取该镜像。建议执行 `qemu-img convert -O qcow2 -o compat=1.1`。",
                    incompatible & !known
                ),
            ));
        }
    }
    let encrypted = crypt != 0;
    if matches!(compression, Qcow2Compression::Zstd | Qcow2Compression::Other(_)) {
        warnings.push(warning(
            "Compressed clusters in this qcow2 use zstd (or an unknown algorithm), which older importers \
             cannot read. To be safe: `qemu-img convert -O qcow2 -o compression_type=zlib in.qcow2 out.qcow2`.",
            "该 qcow2 的压缩簇使用 zstd（或未知算法），较旧的导入程序可能无法读取。稳妥起见请执行 `qemu-img convert -O qcow2 -o compression_type=zlib in.qcow2 out.qcow2`。",
        ));
    }
    let kind = DiskKind::Qcow2 {
        version,
        encrypted,
        backing_file,
        dirty,
        corrupt,
        external_data_file: external,
        compression,
    };
    Ok((kind, size, 0))
}

/// `current_size` from the footer, or qemu's CHS-based size when the creator app says so; this
/// matches `qemu-img info`. The other figure is returned too so the minimum DiskImageSize covers
/// whichever the importer uses.
fn vhd(footer: &[u8], file_size: u64, at_end: bool, warnings: &mut Vec<Warning>) -> Detected {
    let (Some(current), Some(disk_type)) = (be_u64(footer, 48), be_u32(footer, 60)) else {
        return (unknown(format!("a truncated VHD footer ({file_size} bytes)")), 0, 0);
    };
    let subtype = match disk_type {
        2 => VhdSubtype::Fixed,
        3 => VhdSubtype::Dynamic,
        4 => VhdSubtype::Differencing,
        other => return (unknown(format!("a VHD with unknown disk type {other}")), 0, 0),
    };
    let creator = bytes::<4>(footer, 28).unwrap_or_default();
    let uses_size_field = matches!(&creator, b"win " | b"qem2" | b"d2v " | b"CTXS" | b"tap\0");
    let chs = match (bytes::<2>(footer, 56), footer.get(58), footer.get(59)) {
        (Some(c), Some(&h), Some(&s)) => u64::from(u16::from_be_bytes(c)) * u64::from(h) * u64::from(s),
        _ => 0,
    };
    const MAX_GEOMETRY: u64 = 65535 * 16 * 255;
    let chs_bytes = chs * SECTOR;
    let (virtual_size, other) = if uses_size_field || chs == MAX_GEOMETRY || chs == 0 {
        (current, chs_bytes)
    } else {
        (chs_bytes, current)
    };
    if subtype == VhdSubtype::Fixed && at_end && file_size.checked_sub(SECTOR) < Some(current) {
        warnings.push(warning(
            format!(
                "This fixed VHD declares {current} bytes of data but the file holds only {} before its \
                 footer; it is probably truncated.",
                file_size.saturating_sub(SECTOR)
            ),
            format!(
                "该固定大小 VHD 声明数据为 {current} 字节，但尾部之前只有 {} 字节，文件可能被截断。",
                file_size.saturating_sub(SECTOR)
            ),
        ));
    }
    (DiskKind::Vhd { subtype }, virtual_size, other)
}

fn vmdk_sparse<R: Read + Seek>(
    r: &mut R,
    file_size: u64,
    head: &[u8],
    warnings: &mut Vec<Warning>,
) -> io::Result<Detected> {
    let Some(capacity) = le_u64(head, 12) else {
        return Ok((unknown(format!("a truncated VMDK sparse header ({file_size} bytes)")), 0, 0));
    };
    let size = capacity.saturating_mul(SECTOR);
    let (desc_off, desc_len) = (le_u64(head, 28).unwrap_or(0), le_u64(head, 36).unwrap_or(0));
    let mut create_type = None;
    if let (Some(off), Some(len)) = (desc_off.checked_mul(SECTOR), desc_len.checked_mul(SECTOR))
        && desc_off != 0
        && len != 0
    {
        let text = read_at(r, off, len.min(MAX_EXTRA_READ), file_size)?;
        let text = String::from_utf8_lossy(&text);
        let text = text.trim_end_matches('\0');
        create_type = descriptor_field(text, "createType");
        if descriptor_field(text, "parentCID").is_some_and(|cid| !cid.eq_ignore_ascii_case("ffffffff")) {
            warnings.push(warning(
                "This VMDK names a parent disk (parentCID); if it is a delta disk, convert the whole chain \
                 into one image with `qemu-img convert`.",
                "该 VMDK 指定了父磁盘（parentCID）；如果它是差异磁盘，请用 `qemu-img convert` 将整条链合并为单个镜像。",
            ));
        }
    } else {
        warnings.push(warning(
            "This sparse VMDK has no embedded descriptor, so it may be one extent of a split \
             (twoGbMaxExtentSparse) disk. Import the whole disk as one monolithicSparse file.",
            "该稀疏 VMDK 没有内嵌描述符，可能只是拆分磁盘（twoGbMaxExtentSparse）的一个分片。请将整个磁盘转换为单个 monolithicSparse 文件后再导入。",
        ));
    }
    Ok((DiskKind::Vmdk { variant: VmdkVariant::Sparse { create_type } }, size, 0))
}

/// `key="value"` (or `key=value`) from a VMDK descriptor.
fn descriptor_field(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once('=')?;
        (k.trim() == key).then(|| v.trim().trim_matches('"').to_string())
    })
}

fn vmdk_descriptor(head: &[u8], warnings: &mut Vec<Warning>) -> Option<Detected> {
    let start = head.iter().position(|b| !b.is_ascii_whitespace())?;
    if !has(head, start, b"# Disk DescriptorFile") {
        return None;
    }
    let text = String::from_utf8_lossy(head);
    let text = text.trim_end_matches('\0');
    let mut extents = Vec::new();
    let mut total: u64 = 0;
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let Some(access) = words.next().filter(|a| matches!(*a, "RW" | "RDONLY" | "NOACCESS")) else {
            continue;
        };
        let Some(sectors) = words.next().and_then(|s| s.parse::<u64>().ok()) else { continue };
        let kind = words.next().unwrap_or_default().to_string();
        // The file name is quoted and may contain spaces.
        let file = line.split('"').nth(1).map(str::to_string);
        total = total.saturating_add(sectors);
        extents.push(VmdkExtent { access: access.to_string(), sectors, kind, file });
    }
    let has_parent = descriptor_field(text, "parentCID").is_some_and(|c| !c.eq_ignore_ascii_case("ffffffff"));
    if extents.is_empty() {
        warnings.push(warning(
            "The VMDK descriptor lists no extents, so the disk size is unknown.",
            "该 VMDK 描述符未列出任何数据分片（extent），无法确定磁盘大小。",
        ));
    }
    let variant =
        VmdkVariant::Descriptor { create_type: descriptor_field(text, "createType"), extents, has_parent };
    Some((DiskKind::Vmdk { variant }, total.saturating_mul(SECTOR), 0))
}

fn vdi(head: &[u8], warnings: &mut Vec<Warning>) -> Detected {
    let version = le_u32(head, 68).unwrap_or(0);
    let image_type = le_u32(head, 76).unwrap_or(0);
    // Header v1.1 (every VirtualBox since 2.x) keeps the disk size at 368; older layouts differ.
    let size = if version == 0x0001_0001 { le_u64(head, 368) } else { None };
    if size.is_none() {
        warnings.push(warning(
            format!("VDI header version {version:#x} is not 1.1; the disk size could not be read."),
            format!("VDI 头部版本 {version:#x} 不是 1.1，无法读取磁盘大小。"),
        ));
    }
    (DiskKind::Vdi { image_type }, size.unwrap_or(0), 0)
}

const ESP_GUID: [u8; 16] = guid(0xC12A7328, 0xF81F, 0x11D2, [0xBA, 0x4B, 0x00, 0xA0, 0xC9, 0x3E, 0xC9, 0x3B]);
const BIOS_BOOT_GUID: [u8; 16] =
    guid(0x21686148, 0x6449, 0x6E6F, [0x74, 0x4E, 0x65, 0x65, 0x64, 0x45, 0x46, 0x49]);

/// On-disk (mixed-endian) bytes of a GUID written as `d1-d2-d3-d4`.
const fn guid(d1: u32, d2: u16, d3: u16, d4: [u8; 8]) -> [u8; 16] {
    let (a, b, c) = (d1.to_le_bytes(), d2.to_le_bytes(), d3.to_le_bytes());
    [a[0], a[1], a[2], a[3], b[0], b[1], c[0], c[1], d4[0], d4[1], d4[2], d4[3], d4[4], d4[5], d4[6], d4[7]]
}

struct Gpt {
    has_esp: bool,
    has_bios_boot: bool,
}

fn gpt<R: Read + Seek>(r: &mut R, file_size: u64, head: &[u8]) -> io::Result<Option<Gpt>> {
    // LBA 1 is at 512 on 512-byte-sector disks and at 4096 on 4Kn disks.
    for sector in [512u64, 4096] {
        let at = usize::try_from(sector).unwrap_or(usize::MAX);
        if !has(head, at, b"EFI PART") {
            continue;
        }
        let hdr = head.get(at..).unwrap_or_default();
        let (Some(lba), Some(count), Some(entry_size)) = (le_u64(hdr, 72), le_u32(hdr, 80), le_u32(hdr, 84))
        else {
            continue;
        };
        if !(128..=4096).contains(&entry_size) {
            continue;
        }
        let Some(offset) = lba.checked_mul(sector) else { continue };
        let len = u64::from(count).saturating_mul(u64::from(entry_size)).min(MAX_EXTRA_READ);
        let entries = read_at(r, offset, len, file_size)?;
        let types =
            entries.chunks_exact(entry_size as usize).filter_map(|e| bytes::<16>(e, 0)).collect::<Vec<_>>();
        return Ok(Some(Gpt {
            has_esp: types.contains(&ESP_GUID),
            has_bios_boot: types.contains(&BIOS_BOOT_GUID),
        }));
    }
    Ok(None)
}

fn raw<R: Read + Seek>(
    r: &mut R,
    file_size: u64,
    head: &[u8],
    warnings: &mut Vec<Warning>,
) -> io::Result<Detected> {
    if !file_size.is_multiple_of(SECTOR) {
        warnings.push(warning(
            format!(
                "The file size ({file_size} bytes) is not a multiple of 512; a raw disk image always is. \
                 The file may be truncated or not a disk image."
            ),
            format!("文件大小（{file_size} 字节）不是 512 的整数倍，而 raw 磁盘镜像总是 512 的整数倍。文件可能被截断或并非磁盘镜像。"),
        ));
    }
    let mbr_entries: Vec<&[u8]> =
        head.get(446..510).map(|t| t.chunks_exact(16).collect()).unwrap_or_default();
    // A FAT/NTFS boot sector also ends in 55 AA; a real MBR has status bytes 0x00/0x80 only.
    let is_mbr = has(head, 510, b"\x55\xaa")
        && mbr_entries.iter().all(|e| matches!(e.first(), Some(0x00 | 0x80)))
        && mbr_entries.iter().any(|e| e.get(4).is_some_and(|&t| t != 0));
    let mbr_types: Vec<u8> = mbr_entries.iter().filter_map(|e| e.get(4).copied()).collect();
    let (partition_table, has_esp, has_bios_boot) = match gpt(r, file_size, head)? {
        Some(g) => (PartitionTable::Gpt, g.has_esp, g.has_bios_boot),
        None if is_mbr => {
            if mbr_types.contains(&0xEE) {
                warnings.push(warning(
                    "The MBR is a GPT protective MBR but no GPT header was found; the partition table may be damaged.",
                    "MBR 为 GPT 保护性 MBR，但未找到 GPT 头部，分区表可能已损坏。",
                ));
            }
            (PartitionTable::Mbr, mbr_types.contains(&0xEF), false)
        }
        None => {
            let what = filesystem_hint(head).unwrap_or("no partition table or known filesystem");
            warnings.push(warning(
                format!(
                    "No partition table found ({what}; {}). A bootable system disk needs an MBR or GPT; this may be \
                     a bare filesystem image, a blank disk or not a disk image at all. Check it with `fdisk -l` before importing.",
                    describe(head)
                ),
                format!(
                    "未找到分区表（{what}；{}）。可启动的系统盘需要 MBR 或 GPT 分区表；该文件可能是单独的文件系统镜像、空白磁盘或根本不是磁盘镜像。导入前请用 `fdisk -l` 检查。",
                    describe(head)
                ),
            ));
            (PartitionTable::None, false, false)
        }
    };
    Ok((DiskKind::Raw { partition_table, has_esp, has_bios_boot }, file_size, 0))
}

fn filesystem_hint(head: &[u8]) -> Option<&'static str> {
    if head.iter().all(|&b| b == 0) {
        Some("the start of the file is all zeros")
    } else if has(head, 1080, b"\x53\xef") {
        Some("looks like a bare ext2/3/4 filesystem")
    } else if has(head, 0, b"XFSB") {
        Some("looks like a bare XFS filesystem")
    } else if has(head, 3, b"NTFS    ") {
        Some("looks like a bare NTFS filesystem")
    } else if has(head, 82, b"FAT32   ") || has(head, 54, b"FAT") {
        Some("looks like a bare FAT filesystem")
    } else {
        None
    }
}

fn finish(
    kind: DiskKind,
    virtual_size: u64,
    extra_min: u64,
    file_size: u64,
    warnings: Vec<Warning>,
) -> Sniffed {
    let ecs_format = match &kind {
        DiskKind::Qcow2 { .. } => Some(ImageFormat::Qcow2),
        DiskKind::Vhd { .. } => Some(ImageFormat::Vhd),
        DiskKind::Vmdk { .. } => Some(ImageFormat::Vmdk),
        DiskKind::Raw { .. } => Some(ImageFormat::Raw),
        DiskKind::Vdi { .. } | DiskKind::Iso | DiskKind::Unknown { .. } => None,
    };
    let min_disk_image_size_gib = match kind {
        DiskKind::Iso | DiskKind::Unknown { .. } => None,
        _ if virtual_size == 0 => None,
        _ => u32::try_from(virtual_size.max(extra_min).div_ceil(GIB).max(1)).ok(),
    };
    // ESP ⇒ UEFI; an MBR disk or a GPT disk with a BIOS boot partition boots BIOS. Other formats
    // would need their payload decoded, which a header sniff does not do.
    let boot_mode_hint = match &kind {
        DiskKind::Raw { has_esp: true, .. } => Some(BootMode::Uefi),
        DiskKind::Raw { partition_table: PartitionTable::Mbr, .. } => Some(BootMode::Bios),
        DiskKind::Raw { has_bios_boot: true, .. } => Some(BootMode::Bios),
        _ => None,
    };
    let mut sniffed = Sniffed {
        kind,
        virtual_size,
        file_size,
        ecs_format,
        min_disk_image_size_gib,
        boot_mode_hint,
        fits_ecs: Ok(()),
        fits_ens: Ok(()),
        warnings,
    };
    sniffed.fits_ecs = fits_ecs(&sniffed);
    sniffed.fits_ens = fits_ens(&sniffed);
    if matches!(sniffed.kind, DiskKind::Vmdk { .. }) && sniffed.fits_ecs.is_ok() {
        sniffed.warnings.push(warning(
            "ECS accepts VMDK only as an invitational preview; if the import is rejected, convert to qcow2: \
             `qemu-img convert -O qcow2 in.vmdk out.qcow2`.",
            "ECS 对 VMDK 的支持仍处于邀测阶段；如导入被拒绝，请转换为 qcow2：`qemu-img convert -O qcow2 in.vmdk out.qcow2`。",
        ));
    }
    sniffed
}

/// Refusals that hold for every product, shared by ECS and ENS.
fn common_refusal(s: &Sniffed) -> Option<Refusal> {
    match &s.kind {
        DiskKind::Unknown { description } => Some(refusal(
            format!("Not a disk image format ImageDesk recognises: {description}."),
            format!("不是 ImageDesk 可识别的磁盘镜像格式：{description}。"),
        )),
        DiskKind::Iso => Some(refusal(
            "This is an ISO 9660 file (installer or live media), not a disk image. Install the OS into a VM \
             disk first and import that disk.",
            "这是 ISO 9660 光盘镜像（安装介质或 Live 介质），不是磁盘镜像。请先用它将操作系统安装到虚拟机磁盘，再导入该磁盘。",
        )),
        DiskKind::Vdi { image_type } if *image_type == 4 => Some(refusal(
            "This VDI is a differencing image that depends on a parent disk. Clone the full disk \
             (`VBoxManage clonemedium`) and convert it: `qemu-img convert -O qcow2 in.vdi out.qcow2`.",
            "该 VDI 是依赖父磁盘的差异镜像。请先克隆完整磁盘（`VBoxManage clonemedium`），再转换：`qemu-img convert -O qcow2 in.vdi out.qcow2`。",
        )),
        DiskKind::Qcow2 { version, .. } if *version != 2 && *version != 3 => Some(refusal(
            format!(
                "qcow2 header version {version} is not supported (only 2 and 3). Convert it: \
                 `qemu-img convert -O qcow2 -o compat=1.1 in out.qcow2`."
            ),
            format!(
                "不支持 qcow2 头部版本 {version}（仅支持 2 和 3）。请转换：`qemu-img convert -O qcow2 -o compat=1.1 in out.qcow2`。"
            ),
        )),
        DiskKind::Qcow2 { encrypted: true, .. } => Some(refusal(
            "This qcow2 image is encrypted; the cloud cannot read it. Write a decrypted copy: \
             `qemu-img convert --object secret,id=s0,file=key.txt --image-opts \
             driver=qcow2,file.filename=in.qcow2,encrypt.key-secret=s0 -O qcow2 out.qcow2`.",
            "该 qcow2 镜像已加密，云端无法读取。请生成解密副本：`qemu-img convert --object secret,id=s0,file=key.txt --image-opts driver=qcow2,file.filename=in.qcow2,encrypt.key-secret=s0 -O qcow2 out.qcow2`。",
        )),
        DiskKind::Qcow2 { backing_file: Some(name), .. } => Some(refusal(
            format!(
                "This qcow2 image is an overlay on the backing file \"{name}\"; the import needs a standalone \
                 image. Flatten it: `qemu-img convert -O qcow2 overlay.qcow2 standalone.qcow2`."
            ),
            format!(
                "该 qcow2 镜像是基于后端文件“{name}”的增量镜像，导入需要独立镜像。请合并：`qemu-img convert -O qcow2 overlay.qcow2 standalone.qcow2`。"
            ),
        )),
        DiskKind::Qcow2 { external_data_file: true, .. } => Some(refusal(
            "This qcow2 keeps its data in an external data file, so the file alone is not the disk. \
             Make a self-contained copy: `qemu-img convert -O qcow2 in.qcow2 out.qcow2`.",
            "该 qcow2 的数据存放在外部数据文件中，单个文件并不是完整磁盘。请生成独立副本：`qemu-img convert -O qcow2 in.qcow2 out.qcow2`。",
        )),
        DiskKind::Qcow2 { dirty, corrupt, .. } if *dirty || *corrupt => Some(refusal(
            "This qcow2 image was not closed cleanly or is marked corrupt (is a VM still using it?). Shut the VM \
             down, then run `qemu-img check -r all image.qcow2`.",
            "该 qcow2 镜像未正常关闭或被标记为损坏（是否仍有虚拟机在使用？）。请关闭虚拟机后执行 `qemu-img check -r all image.qcow2`。",
        )),
        DiskKind::Vhd { subtype: VhdSubtype::Differencing } => Some(refusal(
            "This VHD is a differencing disk that depends on a parent VHD. Merge the chain into one image: \
             `qemu-img convert -O vpc -o subformat=dynamic child.vhd merged.vhd`.",
            "该 VHD 是依赖父 VHD 的差异磁盘。请将磁盘链合并为单个镜像：`qemu-img convert -O vpc -o subformat=dynamic child.vhd merged.vhd`。",
        )),
        DiskKind::Vmdk { variant: VmdkVariant::Descriptor { has_parent: true, .. } } => Some(refusal(
            "This VMDK is a delta (snapshot) disk that depends on a parent. Convert the whole chain into one \
             image: `qemu-img convert -O qcow2 child.vmdk out.qcow2`.",
            "该 VMDK 是依赖父磁盘的快照（差异）磁盘。请将整条链转换为单个镜像：`qemu-img convert -O qcow2 child.vmdk out.qcow2`。",
        )),
        DiskKind::Vmdk { variant: VmdkVariant::Descriptor { .. } } => Some(refusal(
            "This is a VMDK text descriptor; the disk data lives in the extent files it references, which an \
             upload of this one file would leave behind. Make a single monolithic file: \
             `qemu-img convert -O vmdk -o subformat=monolithicSparse in.vmdk out.vmdk` (or `-O qcow2`).",
            "这是 VMDK 文本描述符文件，磁盘数据位于其引用的分片文件中，只上传该文件会缺失数据。请生成单个完整文件：`qemu-img convert -O vmdk -o subformat=monolithicSparse in.vmdk out.vmdk`（或 `-O qcow2`）。",
        )),
        _ if s.virtual_size == 0 => Some(refusal(
            "The image's virtual disk size is zero or could not be read.",
            "镜像的虚拟磁盘大小为零或无法读取。",
        )),
        _ => None,
    }
}

fn fits_ecs(s: &Sniffed) -> Result<(), Refusal> {
    if let Some(r) = common_refusal(s) {
        return Err(r);
    }
    if let DiskKind::Vdi { .. } = s.kind {
        return Err(refusal(
            "ECS does not import VDI images (formats: RAW, VHD, QCOW2, VMDK). Convert it: \
             `qemu-img convert -O qcow2 in.vdi out.qcow2`.",
            "ECS 不支持导入 VDI 镜像（支持 RAW、VHD、QCOW2、VMDK）。请转换：`qemu-img convert -O qcow2 in.vdi out.qcow2`。",
        ));
    }
    match s.min_disk_image_size_gib {
        Some(gib) if gib <= ECS_MAX_DISK_IMAGE_SIZE_GIB => Ok(()),
        _ => Err(refusal(
            format!(
                "The virtual disk is {} bytes, larger than the {ECS_MAX_DISK_IMAGE_SIZE_GIB} GiB ECS accepts for \
                 DiskImageSize. Shrink the filesystem and partition, then the disk (`qemu-img resize --shrink`).",
                s.virtual_size
            ),
            format!(
                "虚拟磁盘为 {} 字节，超过 ECS DiskImageSize 上限 {ECS_MAX_DISK_IMAGE_SIZE_GIB} GiB。请先缩小文件系统和分区，再缩小磁盘（`qemu-img resize --shrink`）。",
                s.virtual_size
            ),
        )),
    }
}

fn fits_ens(s: &Sniffed) -> Result<(), Refusal> {
    if let Some(r) = common_refusal(s) {
        return Err(r);
    }
    match s.kind {
        DiskKind::Qcow2 { .. } => Ok(()),
        _ => Err(refusal(
            "ENS imports qcow2 images only. Convert it: `qemu-img convert -O qcow2 in out.qcow2`.",
            "ENS 仅支持导入 qcow2 镜像。请转换：`qemu-img convert -O qcow2 in out.qcow2`。",
        )),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::io::Cursor;

    use proptest::prelude::*;

    use super::*;

    fn sniff(bytes: &[u8]) -> Sniffed {
        sniff_reader(&mut Cursor::new(bytes), bytes.len() as u64).unwrap()
    }

    fn put(buf: &mut Vec<u8>, at: usize, data: &[u8]) {
        if buf.len() < at + data.len() {
            buf.resize(at + data.len(), 0);
        }
        buf[at..at + data.len()].copy_from_slice(data);
    }

    fn qcow2_header(version: u32, size: u64) -> Vec<u8> {
        let mut h = vec![0u8; 512];
        put(&mut h, 0, b"QFI\xfb");
        put(&mut h, 4, &version.to_be_bytes());
        put(&mut h, 20, &16u32.to_be_bytes());
        put(&mut h, 24, &size.to_be_bytes());
        if version == 3 {
            put(&mut h, 96, &4u32.to_be_bytes());
            put(&mut h, 100, &112u32.to_be_bytes());
        }
        h
    }

    #[test]
    fn qcow2_plain_v2_and_v3() {
        for version in [2, 3] {
            let s = sniff(&qcow2_header(version, 10 * GIB + 1));
            assert!(
                matches!(s.kind, DiskKind::Qcow2 { version: v, encrypted: false, backing_file: None, .. } if v == version)
            );
            assert_eq!(s.virtual_size, 10 * GIB + 1);
            assert_eq!(s.min_disk_image_size_gib, Some(11));
            assert_eq!(s.ecs_format, Some(ImageFormat::Qcow2));
            assert_eq!(s.boot_mode_hint, None);
            assert_eq!(s.fits_ecs, Ok(()));
            assert_eq!(s.fits_ens, Ok(()));
            assert!(s.warnings.is_empty(), "{:?}", s.warnings);
        }
    }

    #[test]
    fn qcow2_small_disk_needs_at_least_one_gib() {
        assert_eq!(sniff(&qcow2_header(3, 1)).min_disk_image_size_gib, Some(1));
        let zero = sniff(&qcow2_header(3, 0));
        assert_eq!(zero.min_disk_image_size_gib, None);
        assert!(zero.fits_ecs.is_err() && zero.fits_ens.is_err());
    }

    #[test]
    fn qcow2_backing_file_is_read_and_refused() {
        let mut h = qcow2_header(3, GIB);
        put(&mut h, 8, &400u64.to_be_bytes());
        put(&mut h, 16, &9u32.to_be_bytes());
        put(&mut h, 400, b"base.img");
        put(&mut h, 408, b"x");
        let s = sniff(&h);
        assert!(matches!(&s.kind, DiskKind::Qcow2 { backing_file: Some(b), .. } if b == "base.imgx"));
        let r = s.fits_ecs.unwrap_err();
        assert!(
            r.en.contains("base.imgx") && r.en.contains("qemu-img convert") && r.zh.contains("base.imgx")
        );
        assert!(s.fits_ens.is_err());
    }

    #[test]
    fn qcow2_backing_offset_out_of_range_still_refuses() {
        for (off, len) in [(u64::MAX, 10u32), (u64::MAX - 2, 5), (100, u32::MAX), (500, 100)] {
            let mut h = qcow2_header(2, GIB);
            put(&mut h, 8, &off.to_be_bytes());
            put(&mut h, 16, &len.to_be_bytes());
            let s = sniff(&h);
            assert!(
                matches!(&s.kind, DiskKind::Qcow2 { backing_file: Some(b), .. } if b.is_empty()),
                "{s:?}"
            );
            assert!(s.fits_ecs.is_err());
        }
    }

    #[test]
    fn qcow2_encrypted_dirty_corrupt_external_are_refused() {
        let mut enc = qcow2_header(3, GIB);
        put(&mut enc, 32, &2u32.to_be_bytes());
        let s = sniff(&enc);
        assert!(matches!(s.kind, DiskKind::Qcow2 { encrypted: true, .. }));
        assert!(s.fits_ecs.unwrap_err().en.contains("encrypted"));

        for (bit, needle) in [(1u64, "qemu-img check"), (2, "qemu-img check"), (4, "external data file")] {
            let mut h = qcow2_header(3, GIB);
            put(&mut h, 72, &bit.to_be_bytes());
            let s = sniff(&h);
            let r = s.fits_ecs.unwrap_err();
            assert!(r.en.contains(needle), "{bit}: {r:?}");
            assert!(!r.zh.is_empty());
            assert!(s.fits_ens.is_err());
        }
        // Incompatible bits in a v2 header's extension area mean nothing.
        let mut v2 = qcow2_header(2, GIB);
        put(&mut v2, 72, &1u64.to_be_bytes());
        assert!(sniff(&v2).fits_ecs.is_ok());
    }

    #[test]
    fn qcow2_compression_type_and_unknown_features_warn() {
        let mut h = qcow2_header(3, GIB);
        put(&mut h, 72, &8u64.to_be_bytes());
        h[104] = 1;
        let s = sniff(&h);
        assert!(matches!(s.kind, DiskKind::Qcow2 { compression: Qcow2Compression::Zstd, .. }));
        assert!(s.fits_ecs.is_ok());
        assert!(s.warnings.iter().any(|w| w.en.contains("zstd")));

        let mut h = qcow2_header(3, GIB);
        put(&mut h, 72, &(1u64 << 40).to_be_bytes());
        let s = sniff(&h);
        assert!(s.warnings.iter().any(|w| w.en.contains("incompatible feature bits")));
    }

    #[test]
    fn qcow2_bad_versions_and_truncation() {
        let s = sniff(&qcow2_header(1, GIB));
        assert!(s.fits_ecs.unwrap_err().en.contains("version 1"));
        let s = sniff(&qcow2_header(7, GIB));
        assert!(s.fits_ecs.is_err());
        for len in [4, 8, 31, 40, 80] {
            let h = qcow2_header(3, GIB);
            let s = sniff(&h[..len]);
            assert!(matches!(s.kind, DiskKind::Unknown { .. }), "{len}: {s:?}");
            assert!(s.fits_ecs.unwrap_err().en.contains("truncated"));
        }
    }

    #[test]
    fn qcow2_beyond_ecs_limit() {
        let s = sniff(&qcow2_header(3, 4096 * GIB));
        assert_eq!(s.min_disk_image_size_gib, Some(4096));
        assert!(s.fits_ecs.unwrap_err().en.contains("2048 GiB"));
        assert!(s.fits_ens.is_ok());
        let s = sniff(&qcow2_header(3, u64::MAX));
        assert_eq!(s.min_disk_image_size_gib, None);
        assert!(s.fits_ecs.is_err());
    }

    fn vhd_footer(disk_type: u32, size: u64, creator: &[u8; 4], chs: (u16, u8, u8)) -> Vec<u8> {
        let mut f = vec![0u8; 512];
        put(&mut f, 0, b"conectix");
        put(&mut f, 16, &u64::MAX.to_be_bytes());
        put(&mut f, 28, creator);
        put(&mut f, 40, &size.to_be_bytes());
        put(&mut f, 48, &size.to_be_bytes());
        put(&mut f, 56, &chs.0.to_be_bytes());
        f[58] = chs.1;
        f[59] = chs.2;
        put(&mut f, 60, &disk_type.to_be_bytes());
        f
    }

    #[test]
    fn vhd_fixed_uses_size_or_chs_like_qemu() {
        let mut img = vec![0u8; 4096];
        img.extend(vhd_footer(2, 4096, b"win ", (1, 1, 1)));
        let s = sniff(&img);
        assert_eq!(s.kind, DiskKind::Vhd { subtype: VhdSubtype::Fixed });
        assert_eq!(s.virtual_size, 4096);
        assert_eq!(s.ecs_format, Some(ImageFormat::Vhd));
        assert!(s.fits_ecs.is_ok());
        assert!(s.fits_ens.unwrap_err().en.contains("qcow2"));
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);

        // Virtual PC / qemu creators: the CHS geometry wins; DiskImageSize still covers both.
        let mut img = vec![0u8; 4096];
        img.extend(vhd_footer(2, 4096, b"vpc ", (2, 2, 1)));
        let s = sniff(&img);
        assert_eq!(s.virtual_size, 2048);
        assert_eq!(s.min_disk_image_size_gib, Some(1));
    }

    #[test]
    fn vhd_fixed_truncated_warns() {
        let mut img = vec![0u8; 1024];
        img.extend(vhd_footer(2, 1 << 20, b"win ", (0, 0, 0)));
        let s = sniff(&img);
        assert!(s.warnings.iter().any(|w| w.en.contains("truncated")));
    }

    #[test]
    fn vhd_dynamic_differencing_and_start_copy_only() {
        let footer = vhd_footer(3, 10 * GIB, b"win ", (0, 0, 0));
        let mut img = footer.clone();
        img.extend(vec![0u8; 2048]);
        img.extend(&footer);
        let s = sniff(&img);
        assert_eq!(s.kind, DiskKind::Vhd { subtype: VhdSubtype::Dynamic });
        assert_eq!(s.min_disk_image_size_gib, Some(10));
        assert!(s.warnings.is_empty());

        let mut cut = footer.clone();
        cut.extend(vec![1u8; 2048]);
        let s = sniff(&cut);
        assert_eq!(s.kind, DiskKind::Vhd { subtype: VhdSubtype::Dynamic });
        assert!(s.warnings.iter().any(|w| w.en.contains("truncated")));

        let diff = vhd_footer(4, GIB, b"win ", (0, 0, 0));
        let mut img = diff.clone();
        img.extend(vec![0u8; 1024]);
        img.extend(&diff);
        let s = sniff(&img);
        assert_eq!(s.kind, DiskKind::Vhd { subtype: VhdSubtype::Differencing });
        assert!(s.fits_ecs.unwrap_err().en.contains("parent"));

        let s = sniff(&vhd_footer(9, GIB, b"win ", (0, 0, 0)));
        assert!(matches!(s.kind, DiskKind::Unknown { .. }));
    }

    fn vmdk_sparse_header(capacity: u64, desc: Option<&str>) -> Vec<u8> {
        let mut h = vec![0u8; 512];
        put(&mut h, 0, b"KDMV");
        put(&mut h, 4, &1u32.to_le_bytes());
        put(&mut h, 12, &capacity.to_le_bytes());
        put(&mut h, 20, &128u64.to_le_bytes());
        if let Some(text) = desc {
            put(&mut h, 28, &1u64.to_le_bytes());
            put(&mut h, 36, &20u64.to_le_bytes());
            put(&mut h, 512, text.as_bytes());
            h.resize(512 * 21, 0);
        }
        h
    }

    #[test]
    fn vmdk_sparse_with_embedded_descriptor() {
        let desc = "# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\n\
                    createType=\"monolithicSparse\"\nRW 2097152 SPARSE \"x.vmdk\"\n";
        let s = sniff(&vmdk_sparse_header(2_097_152, Some(desc)));
        assert_eq!(
            s.kind,
            DiskKind::Vmdk { variant: VmdkVariant::Sparse { create_type: Some("monolithicSparse".into()) } }
        );
        assert_eq!(s.virtual_size, GIB);
        assert_eq!(s.ecs_format, Some(ImageFormat::Vmdk));
        assert!(s.fits_ecs.is_ok());
        assert!(s.warnings.iter().any(|w| w.en.contains("preview")));
        assert!(s.fits_ens.is_err());
    }

    #[test]
    fn vmdk_sparse_without_descriptor_or_with_bad_offsets() {
        let s = sniff(&vmdk_sparse_header(2048, None));
        assert!(s.warnings.iter().any(|w| w.en.contains("twoGbMaxExtentSparse")));
        let mut h = vmdk_sparse_header(u64::MAX, None);
        put(&mut h, 28, &u64::MAX.to_le_bytes());
        put(&mut h, 36, &u64::MAX.to_le_bytes());
        let s = sniff(&h);
        assert_eq!(s.virtual_size, u64::MAX);
        assert!(s.fits_ecs.is_err());
        let mut h = vmdk_sparse_header(2048, None);
        put(&mut h, 28, &(u64::MAX / 512).to_le_bytes());
        put(&mut h, 36, &(u64::MAX / 512).to_le_bytes());
        assert!(matches!(sniff(&h).kind, DiskKind::Vmdk { .. }));
        assert!(matches!(sniff(&h[..10]).kind, DiskKind::Unknown { .. }));
    }

    #[test]
    fn vmdk_descriptor_lists_extents_and_is_refused() {
        let desc = "# Disk DescriptorFile\nversion=1\nparentCID=ffffffff\ncreateType=\"twoGbMaxExtentFlat\"\n\n\
                    # Extent description\nRW 4194304 FLAT \"my disk-f001.vmdk\" 0\nRW 2048 FLAT \"my disk-f002.vmdk\" 0\n\
                    RW notanumber FLAT \"x\"\n";
        let s = sniff(desc.as_bytes());
        let DiskKind::Vmdk { variant: VmdkVariant::Descriptor { create_type, extents, has_parent } } =
            &s.kind
        else {
            panic!("{s:?}")
        };
        assert_eq!(create_type.as_deref(), Some("twoGbMaxExtentFlat"));
        assert!(!has_parent);
        assert_eq!(extents.len(), 2);
        assert_eq!(extents[0].file.as_deref(), Some("my disk-f001.vmdk"));
        assert_eq!(extents[1].sectors, 2048);
        assert_eq!(s.virtual_size, (4_194_304 + 2048) * 512);
        assert!(s.fits_ecs.unwrap_err().en.contains("monolithicSparse"));

        let delta = "# Disk DescriptorFile\nparentCID=1234abcd\nRW 100 VMFSSPARSE \"d-delta.vmdk\"\n";
        let s = sniff(delta.as_bytes());
        assert!(matches!(
            s.kind,
            DiskKind::Vmdk { variant: VmdkVariant::Descriptor { has_parent: true, .. } }
        ));
        assert!(s.fits_ecs.unwrap_err().en.contains("parent"));

        let empty = sniff(b"# Disk DescriptorFile\n");
        assert!(empty.warnings.iter().any(|w| w.en.contains("no extents")));
        assert!(empty.fits_ecs.is_err());
        let huge = format!("# Disk DescriptorFile\nRW {} FLAT \"a\"\nRW {} FLAT \"b\"\n", u64::MAX, u64::MAX);
        assert_eq!(sniff(huge.as_bytes()).virtual_size, u64::MAX);
    }

    fn vdi_header(version: u32, image_type: u32, size: u64) -> Vec<u8> {
        let mut h = vec![0u8; 512];
        put(&mut h, 0, b"<<< Oracle VM VirtualBox Disk Image >>>\n");
        put(&mut h, 64, &0xbeda_107fu32.to_le_bytes());
        put(&mut h, 68, &version.to_le_bytes());
        put(&mut h, 72, &400u32.to_le_bytes());
        put(&mut h, 76, &image_type.to_le_bytes());
        put(&mut h, 368, &size.to_le_bytes());
        h
    }

    #[test]
    fn vdi_is_not_importable() {
        let s = sniff(&vdi_header(0x0001_0001, 1, 5 * GIB));
        assert_eq!(s.kind, DiskKind::Vdi { image_type: 1 });
        assert_eq!(s.virtual_size, 5 * GIB);
        assert_eq!(s.ecs_format, None);
        assert_eq!(s.min_disk_image_size_gib, Some(5));
        let r = s.fits_ecs.unwrap_err();
        assert!(r.en.contains("VDI") && r.en.contains("qemu-img convert -O qcow2"), "{r:?}");
        assert!(s.fits_ens.is_err());

        let diff = sniff(&vdi_header(0x0001_0001, 4, GIB));
        assert!(diff.fits_ecs.unwrap_err().en.contains("differencing"));
        let old = sniff(&vdi_header(0x0001_0000, 1, GIB));
        assert_eq!(old.virtual_size, 0);
        assert!(!old.warnings.is_empty());
        let cut = sniff(&vdi_header(0x0001_0001, 1, GIB)[..100]);
        assert_eq!(cut.virtual_size, 0);
        assert!(cut.fits_ecs.is_err());
    }

    #[test]
    fn iso_is_refused_even_when_hybrid() {
        let mut iso = vec![0u8; 0x9000];
        put(&mut iso, 0x8001, b"CD001");
        let s = sniff(&iso);
        assert_eq!(s.kind, DiskKind::Iso);
        assert_eq!(s.min_disk_image_size_gib, None);
        assert_eq!(s.ecs_format, None);
        assert!(s.fits_ecs.unwrap_err().en.contains("ISO"));
        // isohybrid images also carry an MBR; they are still installer media.
        put(&mut iso, 446, &[0x80, 0, 0, 0, 0x17]);
        put(&mut iso, 510, &[0x55, 0xaa]);
        assert_eq!(sniff(&iso).kind, DiskKind::Iso);
    }

    fn mbr(types: &[u8]) -> Vec<u8> {
        let mut d = vec![0u8; 1 << 20];
        for (i, &t) in types.iter().enumerate() {
            d[446 + i * 16] = if i == 0 { 0x80 } else { 0 };
            d[446 + i * 16 + 4] = t;
        }
        put(&mut d, 510, &[0x55, 0xaa]);
        d
    }

    #[test]
    fn raw_mbr_hints_bios_or_uefi() {
        let s = sniff(&mbr(&[0x83, 0x82]));
        assert_eq!(
            s.kind,
            DiskKind::Raw { partition_table: PartitionTable::Mbr, has_esp: false, has_bios_boot: false }
        );
        assert_eq!(s.boot_mode_hint, Some(BootMode::Bios));
        assert_eq!(s.ecs_format, Some(ImageFormat::Raw));
        assert_eq!(s.virtual_size, 1 << 20);
        assert_eq!(s.min_disk_image_size_gib, Some(1));
        assert!(s.fits_ecs.is_ok());
        assert!(s.fits_ens.is_err());
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);

        let s = sniff(&mbr(&[0xEF, 0x83]));
        assert!(matches!(s.kind, DiskKind::Raw { partition_table: PartitionTable::Mbr, has_esp: true, .. }));
        assert_eq!(s.boot_mode_hint, Some(BootMode::Uefi));

        // Protective MBR without a GPT header behind it.
        let s = sniff(&mbr(&[0xEE]));
        assert!(s.warnings.iter().any(|w| w.en.contains("protective")));
    }

    fn gpt_disk(sector: usize, types: &[[u8; 16]], entries_lba: u64, entry_size: u32) -> Vec<u8> {
        let mut d = mbr(&[0xEE]);
        put(&mut d, sector, b"EFI PART");
        put(&mut d, sector + 72, &entries_lba.to_le_bytes());
        put(&mut d, sector + 80, &128u32.to_le_bytes());
        put(&mut d, sector + 84, &entry_size.to_le_bytes());
        if let Some(base) = usize::try_from(entries_lba).ok().and_then(|l| l.checked_mul(sector)) {
            for (i, t) in types.iter().enumerate() {
                if base + i * 128 + 16 <= d.len() {
                    put(&mut d, base + i * 128, t);
                }
            }
        }
        d
    }

    const LINUX_FS: [u8; 16] =
        guid(0x0FC63DAF, 0x8483, 0x4772, [0x8E, 0x79, 0x3D, 0x69, 0xD8, 0x47, 0x7D, 0xE4]);

    #[test]
    fn guid_layout_matches_the_spec_bytes() {
        assert_eq!(
            ESP_GUID,
            [0x28, 0x73, 0x2A, 0xC1, 0x1F, 0xF8, 0xD2, 0x11, 0xBA, 0x4B, 0x00, 0xA0, 0xC9, 0x3E, 0xC9, 0x3B]
        );
    }

    #[test]
    fn raw_gpt_esp_bios_boot_and_4kn() {
        let s = sniff(&gpt_disk(512, &[LINUX_FS, ESP_GUID], 2, 128));
        assert_eq!(
            s.kind,
            DiskKind::Raw { partition_table: PartitionTable::Gpt, has_esp: true, has_bios_boot: false }
        );
        assert_eq!(s.boot_mode_hint, Some(BootMode::Uefi));
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);

        let s = sniff(&gpt_disk(512, &[BIOS_BOOT_GUID, LINUX_FS], 2, 128));
        assert_eq!(s.boot_mode_hint, Some(BootMode::Bios));
        let s = sniff(&gpt_disk(512, &[LINUX_FS], 2, 128));
        assert_eq!(
            s.kind,
            DiskKind::Raw { partition_table: PartitionTable::Gpt, has_esp: false, has_bios_boot: false }
        );
        assert_eq!(s.boot_mode_hint, None);

        let s = sniff(&gpt_disk(4096, &[ESP_GUID], 2, 128));
        assert_eq!(s.boot_mode_hint, Some(BootMode::Uefi));
        // Entries beyond the first 64 KiB are read separately.
        let s = sniff(&gpt_disk(512, &[ESP_GUID], 1000, 128));
        assert_eq!(s.boot_mode_hint, Some(BootMode::Uefi));
    }

    #[test]
    fn raw_gpt_with_absurd_fields_does_not_panic() {
        for (lba, size) in [(u64::MAX, 128), (2, 0), (2, u32::MAX), (u64::MAX / 512 + 1, 128), (1 << 40, 256)]
        {
            let s = sniff(&gpt_disk(512, &[ESP_GUID], lba, size));
            assert!(matches!(s.kind, DiskKind::Raw { has_esp: false, .. }), "{lba} {size}: {s:?}");
        }
    }

    #[test]
    fn raw_without_partition_table_warns() {
        let s = sniff(&vec![0u8; 4096]);
        assert_eq!(
            s.kind,
            DiskKind::Raw { partition_table: PartitionTable::None, has_esp: false, has_bios_boot: false }
        );
        assert!(s.warnings.iter().any(|w| w.en.contains("all zeros") && w.en.contains("fdisk")));
        assert!(s.fits_ecs.is_ok());

        let mut ext = vec![0xAAu8; 8192];
        put(&mut ext, 1080, &[0x53, 0xef]);
        assert!(sniff(&ext).warnings.iter().any(|w| w.en.contains("ext2/3/4")));

        // A FAT boot sector ends in 55 AA too, but its "entries" are code, not partitions.
        let mut fat = vec![0x11u8; 4096];
        put(&mut fat, 82, b"FAT32   ");
        put(&mut fat, 510, &[0x55, 0xaa]);
        let s = sniff(&fat);
        assert!(matches!(s.kind, DiskKind::Raw { partition_table: PartitionTable::None, .. }));
        assert!(s.warnings.iter().any(|w| w.en.contains("FAT")));

        let s = sniff(&mbr(&[0x83])[..1000]);
        assert!(s.warnings.iter().any(|w| w.en.contains("multiple of 512")));
    }

    #[test]
    fn unknown_inputs_are_refused_with_a_description() {
        let s = sniff(b"");
        assert!(s.fits_ecs.unwrap_err().en.contains("empty"));
        let s = sniff(&[0x1f, 0x8b, 8, 0, 0, 0]);
        assert!(s.fits_ecs.unwrap_err().en.contains("gzip"));
        let s = sniff(b"vhdxfile\0\0\0\0");
        assert!(s.fits_ecs.unwrap_err().en.contains("VHDX"));
        let mut tar = vec![0u8; 1024];
        put(&mut tar, 257, b"ustar");
        assert!(sniff(&tar).fits_ecs.unwrap_err().en.contains("OVA"));
        let s = sniff(&[0xde, 0xad, 0xbe, 0xef]);
        let r = s.fits_ecs.unwrap_err();
        assert!(r.en.contains("de ad be ef") && r.zh.contains("de ad be ef"), "{r:?}");
        assert!(s.fits_ens.is_err());
        assert_eq!(s.ecs_format, None);
        let text = "hello world\n".repeat(100);
        assert!(sniff(text.as_bytes()).fits_ecs.unwrap_err().en.contains("text file"));
    }

    #[test]
    fn sniff_path_names_the_path() {
        let missing = Path::new("/nonexistent/imagedesk/disk.qcow2");
        let e = sniff_path(missing).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/imagedesk/disk.qcow2"), "{e}");
        let e = sniff_path(&std::env::temp_dir()).unwrap_err();
        assert!(matches!(e, SniffError::NotAFile { .. }), "{e}");
    }

    /// A sparse 100 GB "file" of zeros that counts what is read.
    struct Huge {
        pos: u64,
        len: u64,
        read: u64,
    }

    impl Read for Huge {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = (buf.len() as u64).min(self.len.saturating_sub(self.pos));
            let n = usize::try_from(n).unwrap();
            buf[..n].fill(0);
            self.pos += n as u64;
            self.read += n as u64;
            Ok(n)
        }
    }

    impl Seek for Huge {
        fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
            let SeekFrom::Start(p) = to else { unimplemented!() };
            self.pos = p;
            Ok(p)
        }
    }

    #[test]
    fn reads_are_bounded_on_huge_files() {
        let len = 100 * 1_000_000_000;
        let mut r = Huge { pos: 0, len, read: 0 };
        let s = sniff_reader(&mut r, len).unwrap();
        assert_eq!(s.virtual_size, len);
        assert_eq!(s.min_disk_image_size_gib, Some(94));
        assert!(r.read <= HEAD_LEN + 512, "read {} bytes", r.read);
    }

    #[test]
    fn file_size_larger_than_the_data_is_tolerated() {
        // A reader that ends early (file shrank under us) must not break parsing.
        let h = qcow2_header(3, GIB);
        let s = sniff_reader(&mut Cursor::new(&h), u64::MAX).unwrap();
        assert!(matches!(s.kind, DiskKind::Qcow2 { .. }));
    }

    fn magic_prefixed() -> impl Strategy<Value = Vec<u8>> {
        let magics: Vec<&'static [u8]> = vec![
            b"",
            b"QFI\xfb\0\0\0\x03",
            b"QFI\xfb\0\0\0\x02",
            b"KDMV",
            b"# Disk DescriptorFile\nRW ",
            b"conectix",
            b"<<< ",
            b"EFI PART",
        ];
        (proptest::sample::select(magics), proptest::collection::vec(any::<u8>(), 0..2048), any::<bool>())
            .prop_map(|(magic, rest, mbr)| {
                let mut v = magic.to_vec();
                v.extend(rest);
                if mbr && v.len() >= 512 {
                    v[510] = 0x55;
                    v[511] = 0xaa;
                }
                v
            })
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..70_000)) {
            let _ = sniff(&data);
        }

        #[test]
        fn arbitrary_headers_never_panic(data in magic_prefixed(), claimed in any::<u64>()) {
            let s = sniff(&data);
            prop_assert_eq!(s.file_size, data.len() as u64);
            let _ = sniff_reader(&mut Cursor::new(&data), claimed);
            // A VHD footer at the end, with arbitrary fields.
            let mut tail = data.clone();
            tail.extend_from_slice(b"conectix");
            tail.resize(tail.len() + 504, 0xff);
            let _ = sniff(&tail);
        }
    }
}
