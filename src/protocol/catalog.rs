//! Error-code catalogue: for every documented error code, whether to retry, which request field it
//! concerns, and what the user should do about it (English and Simplified Chinese).
//!
//! Sources: spec errors.md §2–§5, apis.md (per-operation tables), oss-upload.md §4, signing.md §1.6/§3/§4
//! and the seed pages' error tables. Misspelt codes (`InvalidParamter`, `Forbbiden`, `OperationDeined.*`…)
//! are real wire values and are kept as separate entries.
//!
//! Retry policy (errors.md §2): only `InternalError`, `ServiceUnavailable` and the throttling codes back
//! off (plus OSS `BadRequest`, which the official OSS SDK retries, oss-upload.md §4); nonce, timestamp
//! and STS-token failures are retried only after re-signing or refreshing; every other code needs the
//! user to change the request or permissions.

// Short variant names keep the table below readable.
use Retry::{Backoff, Never, NewNonce, RefreshCredentials, ResignFreshTime};

/// What a client may do after receiving an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retry {
    /// Fix the request or the permissions; retrying unchanged will fail again.
    Never,
    /// Transient (throttling, 500 `InternalError`, 503 `ServiceUnavailable`): exponential backoff.
    Backoff,
    /// `SignatureNonceUsed`: re-sign with a fresh nonce, then retry.
    NewNonce,
    /// `InvalidTimeStamp.Expired` / `RequestTimeTooSkewed`: re-sign with the current time, once.
    ResignFreshTime,
    /// Expired STS token: refresh the credentials, then retry once.
    RefreshCredentials,
}

impl Retry {
    pub fn is_retryable(self) -> bool {
        !matches!(self, Retry::Never)
    }
}

/// One catalogue entry.
#[derive(Debug)]
pub struct ErrorInfo {
    /// Exact wire code (case-sensitive).
    pub code: &'static str,
    /// Documented HTTP statuses; some codes have two. Empty when no status is documented.
    pub http_status: &'static [u16],
    pub retry: Retry,
    /// Wire parameter the error concerns (`N` stands for a list index), if any.
    pub field: Option<&'static str>,
    pub en: &'static str,
    pub zh: &'static str,
}

/// Advice for one concrete error response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Advice {
    pub code: String,
    pub retry: Retry,
    pub field: Option<String>,
    pub en: String,
    pub zh: String,
}

/// RAM role ECS assumes to read the image file from OSS (ImportImage without `RoleName`).
pub const IMPORT_ROLE_NAME: &str = "AliyunECSImageImportDefaultRole";
/// System permission policy to attach to [`IMPORT_ROLE_NAME`].
pub const IMPORT_ROLE_SYSTEM_POLICY: &str = "AliyunECSImageImportRolePolicy";
/// Role ECS assumes to write exported images to OSS (ExportImage without `RoleName`).
pub const EXPORT_ROLE_NAME: &str = "AliyunECSImageExportDefaultRole";
/// System permission policy to attach to [`EXPORT_ROLE_NAME`].
pub const EXPORT_ROLE_SYSTEM_POLICY: &str = "AliyunECSImageExportRolePolicy";

/// Trust policy of [`IMPORT_ROLE_NAME`]: lets the ECS service assume the role.
pub const IMPORT_ROLE_TRUST_POLICY: &str = r#"{
  "Statement": [
    {
      "Action": "sts:AssumeRole",
      "Effect": "Allow",
      "Principal": {
        "Service": [
          "ecs.aliyuncs.com"
        ]
      }
    }
  ],
  "Version": "1"
}"#;

/// Custom permission policy equivalent to [`IMPORT_ROLE_SYSTEM_POLICY`] (2021 doc: adds `oss:GetBucketInfo`).
pub const IMPORT_ROLE_PERMISSION_POLICY: &str = r#"{
  "Version": "1",
  "Statement": [
    {
      "Action": [
        "oss:GetObject",
        "oss:GetBucketLocation",
        "oss:GetBucketInfo"
      ],
      "Resource": "*",
      "Effect": "Allow"
    }
  ]
}"#;

/// Code under which the Apsara Stack route gateway's failure body
/// (`{"resultCode":-1,"resultMsg":"system error","result":null}`, seed 004) is catalogued.
/// [`advice`] also maps a bare non-zero numeric `resultCode` (e.g. `"-1"`) to this entry.
pub const APSARA_ROUTE_FAILURE: &str = "Apsara.RouteFailure";

/// Look up a code exactly (case-sensitive).
pub fn lookup(code: &str) -> Option<&'static ErrorInfo> {
    CATALOG.iter().find(|info| info.code == code)
}

/// The whole catalogue.
pub fn all() -> &'static [ErrorInfo] {
    CATALOG
}

const fn e(
    code: &'static str,
    http_status: &'static [u16],
    retry: Retry,
    field: Option<&'static str>,
    en: &'static str,
    zh: &'static str,
) -> ErrorInfo {
    ErrorInfo { code, http_status, retry, field, en, zh }
}

static CATALOG: &[ErrorInfo] = &[
    // ---- POP gateway: signature and credentials (errors.md §2, signing.md §1.6/§3) ----
    // Shared with OSS (403 there), so the message covers both signers.
    e(
        "SignatureDoesNotMatch",
        &[400, 403],
        Never,
        None,
        "The request signature does not match the one the server computed. Check that the AccessKey secret belongs to this AccessKey ID and has no extra spaces; for OSS, check that the bucket, object key and the Content-Type/Content-MD5 headers were signed exactly as sent. Compare the server's string-to-sign in the message with the one ImageDesk logged.",
        "请求签名与服务端计算的结果不一致。请确认 AccessKey Secret 与该 AccessKey ID 匹配且没有多余空格;对于 OSS,请确认 Bucket、Object 名称以及 Content-Type/Content-MD5 请求头与签名时完全一致。可将错误信息中服务端的待签名字符串与 ImageDesk 日志中的进行对比。",
    ),
    e(
        "InvalidAccessKeySecret",
        &[400],
        Never,
        None,
        "The AccessKey secret is wrong: the server built the same string-to-sign but got a different signature. Re-enter the secret that belongs to this AccessKey ID, or create a new AccessKey pair in the RAM console.",
        "AccessKey Secret 错误:服务端的待签名字符串与本地一致,但签名不同。请重新填写与该 AccessKey ID 对应的 Secret,或在 RAM 控制台创建新的 AccessKey。",
    ),
    e(
        "IncompleteSignature",
        &[400],
        Never,
        None,
        "The signature fields are missing or malformed (SignatureMethod must be HMAC-SHA1 with SignatureVersion 1.0, or a complete ACS3-HMAC-SHA256 Authorization header). Check that no proxy strips headers or parameters, and update ImageDesk if the problem persists.",
        "签名相关字段缺失或格式不正确(SignatureMethod 须为 HMAC-SHA1 且 SignatureVersion 为 1.0,或提供完整的 ACS3-HMAC-SHA256 Authorization 请求头)。请检查是否有代理删除了请求头或参数;如问题持续,请升级 ImageDesk。",
    ),
    e(
        "InvalidAccessKeyId.NotFound",
        &[404],
        Never,
        Some("AccessKeyId"),
        "The AccessKey ID does not exist. Copy the AccessKey ID again from the RAM console into the profile, and check that the profile points at the right cloud (public cloud or your Apsara Stack).",
        "AccessKey ID 不存在。请从 RAM 控制台重新复制 AccessKey ID 到配置中,并确认配置的是正确的云环境(公共云或专有云 Apsara Stack)。",
    ),
    e(
        "InvalidAccessKeyId.Inactive",
        &[400],
        Never,
        Some("AccessKeyId"),
        "The AccessKey is disabled. Enable it again in the RAM console (AccessKey management) or switch the profile to an active AccessKey.",
        "该 AccessKey 已被禁用。请在 RAM 控制台的 AccessKey 管理中重新启用,或在配置中改用其他已启用的 AccessKey。",
    ),
    // OSS name for an unknown/disabled key; with STS keys it also signals an expired token.
    e(
        "InvalidAccessKeyId",
        &[403],
        Never,
        Some("AccessKeyId"),
        "The AccessKey ID is not recognised or is disabled. Check the AccessKey ID in the profile and that the key is enabled in the RAM console; if you use temporary STS credentials, obtain a new set (ID, secret and token together).",
        "AccessKey ID 无法识别或已被禁用。请检查配置中的 AccessKey ID,并在 RAM 控制台确认该 AccessKey 已启用;如使用 STS 临时凭证,请重新获取一整套凭证(ID、Secret 与 Token)。",
    ),
    e(
        "Forbidden.AccessKeyDisabled",
        &[403],
        Never,
        Some("AccessKeyId"),
        "The AccessKey is disabled. Enable it in the RAM console or use another active AccessKey in the profile.",
        "该 AccessKey 已被禁用。请在 RAM 控制台启用它,或在配置中使用其他已启用的 AccessKey。",
    ),
    e(
        "InvalidTimeStamp.Expired",
        &[400],
        ResignFreshTime,
        Some("Timestamp"),
        "The request time is more than 15 minutes away from the server's time. ImageDesk re-signs once with the current time; if that fails too, synchronise this computer's clock (enable automatic time/NTP) and check the time zone.",
        "请求时间与服务器时间相差超过 15 分钟。ImageDesk 会使用当前时间重新签名并重试一次;若仍失败,请同步本机时钟(开启自动对时/NTP)并检查时区设置。",
    ),
    e(
        "InvalidTimeStamp.Format",
        &[400],
        Never,
        Some("Timestamp"),
        "The Timestamp is not in UTC ISO 8601 form (yyyy-MM-ddTHH:mm:ssZ). Check that no proxy rewrites the request; if it still happens, report it as an ImageDesk bug.",
        "Timestamp 不是 UTC ISO 8601 格式(yyyy-MM-ddTHH:mm:ssZ)。请确认没有代理改写请求;若问题仍存在,请向 ImageDesk 报告缺陷。",
    ),
    e(
        "IllegalTimestamp",
        &[400],
        Never,
        Some("Timestamp"),
        "The Timestamp parameter is missing or garbled (older gateway). Make sure the parameter is named exactly Timestamp and holds UTC time as yyyy-MM-ddTHH:mm:ssZ, and that the computer clock is correct.",
        "Timestamp 参数缺失或格式错误(旧版网关)。请确认参数名正好是 Timestamp、取值为 UTC 时间 yyyy-MM-ddTHH:mm:ssZ,并确认本机时钟正确。",
    ),
    e(
        "SignatureNonceUsed",
        &[400],
        NewNonce,
        Some("SignatureNonce"),
        "This SignatureNonce was already used in the last 15 minutes, so the request looked like a replay. ImageDesk re-signs with a new nonce and retries; if it keeps happening, check that no proxy resends requests.",
        "该 SignatureNonce 在 15 分钟内已被使用,请求被视为重放。ImageDesk 会生成新的随机数重新签名并重试;如反复出现,请检查是否有代理重复发送请求。",
    ),
    e(
        "MissingSecurityToken",
        &[400],
        Never,
        Some("SecurityToken"),
        "The AccessKey ID is a temporary STS key (it starts with STS.) but no security token was sent. Enter the STS security token in the profile together with the key, or use a permanent AccessKey.",
        "该 AccessKey ID 是 STS 临时凭证(以 STS. 开头),但请求中没有安全令牌。请在配置中同时填写 STS SecurityToken,或改用长期 AccessKey。",
    ),
    e(
        "InvalidSecurityToken.Expired",
        &[400],
        RefreshCredentials,
        Some("SecurityToken"),
        "The STS security token has expired. ImageDesk obtains fresh temporary credentials and retries once; if you entered the token by hand, request a new token (AssumeRole) and update the profile.",
        "STS 安全令牌已过期。ImageDesk 会获取新的临时凭证并重试一次;如果令牌是手动填写的,请重新申请(AssumeRole)并更新配置。",
    ),
    e(
        "InvalidSecurityToken.Malformed",
        &[400],
        RefreshCredentials,
        Some("SecurityToken"),
        "The STS security token is malformed (often truncated when copied). ImageDesk refreshes the credentials and retries once; otherwise paste the complete token again.",
        "STS 安全令牌格式错误(常见原因是复制时被截断)。ImageDesk 会刷新凭证并重试一次;否则请重新粘贴完整的令牌。",
    ),
    e(
        "InvalidSecurityToken.MismatchWithAccessKey",
        &[400],
        RefreshCredentials,
        Some("SecurityToken"),
        "The STS security token does not belong to this AccessKey ID. ImageDesk refreshes the credentials and retries once; otherwise enter an AccessKey ID, secret and token that were issued together.",
        "STS 安全令牌与该 AccessKey ID 不匹配。ImageDesk 会刷新凭证并重试一次;否则请填写同一次签发的 AccessKey ID、Secret 和 Token。",
    ),
    // ---- POP gateway: request shape ----
    e(
        "MissingParameter",
        &[400],
        Never,
        None,
        "A required parameter was not sent; the server message names it. Fill in that field and submit again.",
        "缺少必填参数,服务端返回的信息中给出了参数名。请填写该字段后重新提交。",
    ),
    e(
        "MissingParameter.DiskDeviceMapping",
        &[403],
        Never,
        Some("DiskDeviceMapping.N.OSSBucket"),
        "No disk image was given. ImportImage needs at least the system disk: choose the OSS bucket and object of the uploaded image file (DiskDeviceMapping.1.OSSBucket and DiskDeviceMapping.1.OSSObject).",
        "未指定磁盘镜像。导入镜像至少需要系统盘:请选择已上传镜像文件所在的 OSS Bucket 和 Object(DiskDeviceMapping.1.OSSBucket 与 DiskDeviceMapping.1.OSSObject)。",
    ),
    e(
        "InvalidParameter",
        &[400],
        Never,
        None,
        "A parameter value is not valid; the server message names the parameter. Correct it according to that field's rules (length, allowed characters, allowed values; ClientToken at most 64 ASCII characters) and submit again.",
        "参数取值无效,服务端返回的信息中给出了参数名。请按该字段的规则(长度、允许的字符、可选值;ClientToken 最多 64 个 ASCII 字符)修改后重新提交。",
    ),
    e(
        "InvalidParamter",
        &[400],
        Never,
        None,
        "A DescribeImages filter value is not valid (ECS spells this code InvalidParamter). Check the filters, such as Status, ImageOwnerAlias, OSType, Architecture and PageSize (1 to 100), and query again.",
        "DescribeImages 的查询条件取值无效(ECS 返回的错误码拼写为 InvalidParamter)。请检查 Status、ImageOwnerAlias、OSType、Architecture、PageSize(1~100)等筛选条件后重新查询。",
    ),
    // ENS documents the code with its placeholder; real responses carry the field name instead.
    e(
        "InvalidParameter.%s",
        &[400],
        Never,
        None,
        "An ENS parameter is not valid; the field name replaces %s in the code and message. Check that field against the ENS rules (ImageName 2 to 128 characters starting with a letter or Chinese character, ImageFormat qcow2, Architecture x86_64, OSSRegion cn-beijing) and submit again.",
        "ENS 参数取值无效,错误码和信息中的 %s 会被替换为参数名。请按 ENS 规则检查该字段(ImageName 长度 2~128 且以字母或中文开头,ImageFormat 为 qcow2,Architecture 为 x86_64,OSSRegion 为 cn-beijing)后重新提交。",
    ),
    e(
        "InvalidParameter.Malformed",
        &[403],
        Never,
        Some("DiskDeviceMapping.N.Device"),
        "The disk device name is not valid. Leave DiskDeviceMapping.N.Device empty (it is deprecated), or use /dev/xvda for the system disk and /dev/xvdb to /dev/xvdz for data disks.",
        "磁盘设备名无效。请不填写 DiskDeviceMapping.N.Device(该参数已废弃),或系统盘使用 /dev/xvda、数据盘使用 /dev/xvdb~/dev/xvdz。",
    ),
    e(
        "InvalidParameter.FeaturesImdsSupport",
        &[400],
        Never,
        Some("Features.ImdsSupport"),
        "The metadata access mode is not supported. Set Features.ImdsSupport to v1 (normal and hardened mode) or v2 (hardened mode only), or leave it empty.",
        "不支持该元数据访问模式。请将 Features.ImdsSupport 设为 v1(普通模式和加固模式)或 v2(仅加固模式),或不填写。",
    ),
    e(
        "InvalidAction.NotFound",
        &[404, 400],
        Never,
        Some("Action"),
        "This API operation does not exist at this endpoint for this Action and Version. Check that the endpoint matches the product (ecs., ens. or ehpcinstant.) and the product version; on Apsara Stack, check that the product is deployed and the gateway path is right.",
        "该接入点上不存在此 Action 与 Version 组合的接口。请确认接入点与产品一致(ecs.、ens. 或 ehpcinstant.)且版本号正确;专有云 Apsara Stack 请确认该产品已部署且网关路径正确。",
    ),
    e(
        "InvalidVersion",
        &[400],
        Never,
        Some("Version"),
        "The API version is not valid for this product. Use 2014-05-26 for ECS, 2017-11-10 for ENS or 2023-07-01 for E-HPC Instant, and check that the endpoint belongs to the same product.",
        "API 版本号对该产品无效。ECS 请使用 2014-05-26,ENS 使用 2017-11-10,E-HPC Instant 使用 2023-07-01,并确认接入点属于同一产品。",
    ),
    e(
        "UnsupportedHTTPMethod",
        &[400],
        Never,
        None,
        "This API does not accept the HTTP method used. Send the call as POST (or GET) with the parameters in the query string or form body, and check that no proxy changes the method.",
        "该接口不支持所用的 HTTP 方法。请使用 POST(或 GET)并将参数放在查询字符串或表单中,同时确认没有代理改写请求方法。",
    ),
    e(
        "IdempotentParameterMismatch",
        &[400],
        Never,
        Some("ClientToken"),
        "This ClientToken was already used for a request with different parameters. If you changed the request on purpose, submit it with a new ClientToken; if you meant to repeat the earlier request, send exactly the same parameters.",
        "该 ClientToken 已用于参数不同的另一个请求。如果是有意修改了请求,请使用新的 ClientToken 提交;如果想重复之前的请求,请保持参数完全一致。",
    ),
    e(
        "IdempotenceParamNotMatch",
        &[400],
        Never,
        Some("ClientToken"),
        "This ClientToken was already used for a request with different parameters (ECS spelling of IdempotentParameterMismatch). Submit the changed request with a new ClientToken, or repeat the earlier one with identical parameters.",
        "该 ClientToken 已用于参数不同的另一个请求(ECS 对 IdempotentParameterMismatch 的另一种写法)。修改后的请求请使用新的 ClientToken 提交,或以完全相同的参数重复之前的请求。",
    ),
    e(
        "DryRunOperation",
        &[400],
        Never,
        Some("DryRun"),
        "Dry run passed: the request is valid and you have permission. Turn off the DryRun option and submit again to actually perform it.",
        "预检通过:请求参数有效且您拥有权限。请关闭 DryRun 选项后再次提交以实际执行操作。",
    ),
    // ---- Permissions ----
    e(
        "Forbidden.RAM",
        &[403],
        Never,
        None,
        "Your RAM user or role is not allowed to perform this operation. Ask the account administrator to grant the action shown as AuthAction in the error details (for example ecs:ImportImage) in a RAM policy, then try again.",
        "您的 RAM 用户或角色无权执行此操作。请联系主账号管理员在 RAM 策略中授予错误详情里 AuthAction 所示的权限(例如 ecs:ImportImage),然后重试。",
    ),
    // POP 403; ENS documents the same code with 400.
    e(
        "NoPermission",
        &[403, 400],
        Never,
        None,
        "You are not authorised to perform this action. Ask the account administrator to grant your RAM identity the permission for this product and action (see AuthAction in the error details), then try again.",
        "您无权执行此操作。请联系主账号管理员为您的 RAM 身份授予该产品和操作的权限(见错误详情中的 AuthAction),然后重试。",
    ),
    e(
        "Forbidden",
        &[403],
        Never,
        None,
        "You are not allowed to operate on this resource. Check that the resource belongs to this account and region, and that your RAM policy allows the action on it.",
        "无权操作该资源。请确认资源属于当前账号和地域,并确认您的 RAM 策略允许对其执行此操作。",
    ),
    // 2018 ImportImage table: account not authorised/whitelisted for import (sic spelling).
    e(
        "Forbbiden",
        &[400],
        Never,
        None,
        "Your account is not allowed to import images (ECS returns this misspelt code when the caller lacks permission). Check that your RAM identity has ecs:ImportImage; if it does, open a ticket to have image import enabled for the account.",
        "您的账号无权导入镜像(调用者缺少权限时 ECS 返回此拼写错误的错误码)。请确认您的 RAM 身份拥有 ecs:ImportImage 权限;如已授权,请提交工单为账号开通镜像导入。",
    ),
    e(
        "Forbidden.RiskControl",
        &[403],
        Never,
        None,
        "The operation was blocked by Alibaba Cloud risk control. Complete the account verification or security checks requested in the console, or contact Alibaba Cloud support; retrying will not help.",
        "操作被阿里云风控系统拦截。请在控制台完成要求的账号验证或安全检查,或联系阿里云技术支持;重试无法解决。",
    ),
    e(
        "UserNotInTheWhiteList",
        &[403],
        Never,
        None,
        "This feature is in invitational preview and your account is not on its allow list (for example importing VMDK files). Use a generally available option such as RAW, VHD or QCOW2, or apply for access through a ticket.",
        "该功能处于邀测阶段,您的账号不在白名单中(例如导入 VMDK 文件)。请改用已正式开放的选项(如 RAW、VHD、QCOW2),或提交工单申请开通。",
    ),
    e(
        "NoSetRoletoECSServiceAcount",
        &[403],
        Never,
        Some("RoleName"),
        "ECS cannot read your OSS bucket because the image import role is missing or lacks permissions. In the RAM console create the role AliyunECSImageImportDefaultRole (exactly this name unless you pass RoleName) with a trust policy that lets the service ecs.aliyuncs.com perform sts:AssumeRole, then attach the system policy AliyunECSImageImportRolePolicy or a custom policy allowing oss:GetObject, oss:GetBucketLocation and oss:GetBucketInfo. The console's one-click authorisation (template ECSImportRole) does the same. For ExportImage use AliyunECSImageExportDefaultRole with AliyunECSImageExportRolePolicy. Then import again.",
        "ECS 无法读取您的 OSS 文件:导入镜像所需的 RAM 角色不存在或权限不足。请在 RAM 控制台创建角色 AliyunECSImageImportDefaultRole(除非请求中指定了 RoleName,否则名称必须完全一致),信任策略允许服务 ecs.aliyuncs.com 执行 sts:AssumeRole;然后为该角色授权系统策略 AliyunECSImageImportRolePolicy,或包含 oss:GetObject、oss:GetBucketLocation、oss:GetBucketInfo 的自定义策略。也可在控制台使用一键授权(模板 ECSImportRole)。导出镜像请使用角色 AliyunECSImageExportDefaultRole 和策略 AliyunECSImageExportRolePolicy。完成后重新导入。",
    ),
    // ---- Throttling and server faults: the only backoff cases (errors.md §2) ----
    e(
        "Throttling",
        &[400, 403, 429],
        Backoff,
        None,
        "Too many requests: the call was throttled. ImageDesk waits and retries with exponential backoff; if it keeps happening, run fewer operations at the same time.",
        "请求过于频繁,已被限流。ImageDesk 会按指数退避等待后自动重试;如持续出现,请减少同时进行的操作。",
    ),
    e(
        "Throttling.User",
        &[400, 429],
        Backoff,
        None,
        "Your account exceeded its request rate limit. ImageDesk waits and retries with exponential backoff; other tools using the same account also count, so pause them if it keeps happening.",
        "账号的请求频率超过上限。ImageDesk 会按指数退避等待后自动重试;同一账号下其他工具的调用也计入限额,如持续出现请暂停它们。",
    ),
    e(
        "Throttling.Api",
        &[400],
        Backoff,
        None,
        "This API's request rate limit was exceeded. ImageDesk waits and retries with exponential backoff; refresh lists less often if it keeps happening.",
        "该接口的调用频率超过上限。ImageDesk 会按指数退避等待后自动重试;如持续出现,请降低列表刷新频率。",
    ),
    e(
        "ServiceUnavailable",
        &[503],
        Backoff,
        None,
        "The service is temporarily unavailable. ImageDesk retries with exponential backoff; if it lasts, check the Alibaba Cloud status page and try again later.",
        "服务暂时不可用。ImageDesk 会按指数退避自动重试;如持续不可用,请查看阿里云服务状态页面并稍后再试。",
    ),
    // Shared by POP and OSS.
    e(
        "InternalError",
        &[500],
        Backoff,
        None,
        "The service hit an internal error. ImageDesk retries with exponential backoff (creating calls reuse the same ClientToken and uploads resend only the failed part, so nothing is duplicated). If it persists, contact Alibaba Cloud support with the RequestId.",
        "服务端发生内部错误。ImageDesk 会按指数退避自动重试(创建类请求沿用同一 ClientToken,上传只重传失败的分片,不会产生重复)。如持续出现,请携带 RequestId 联系阿里云技术支持。",
    ),
    // ---- Regions ----
    e(
        "InvalidRegionId.NotFound",
        &[400, 404],
        Never,
        Some("RegionId"),
        "The region ID does not exist or is not available to this account. Choose a region from the region list (DescribeRegions), for example cn-hangzhou.",
        "地域 ID 不存在或对当前账号不可用。请从地域列表(DescribeRegions)中选择,例如 cn-hangzhou。",
    ),
    e(
        "RegionId.NotFound",
        &[400],
        Never,
        Some("RegionId"),
        "The region ID does not exist. Choose a region from the region list (DescribeRegions) and make sure it is the region of the OSS bucket holding the image file.",
        "地域 ID 不存在。请从地域列表(DescribeRegions)中选择,并确认它与存放镜像文件的 OSS Bucket 在同一地域。",
    ),
    e(
        "InvalidRegion.NotSupport",
        &[400, 403],
        Never,
        Some("RegionId"),
        "This region does not support image import or export. Choose a region where it is available, upload the file to an OSS bucket in that region and import there; copy the image to other regions afterwards.",
        "该地域不支持导入或导出镜像。请选择支持该功能的地域,将文件上传到该地域的 OSS Bucket 后再导入;之后可将镜像复制到其他地域。",
    ),
    e(
        "SourceRegion.NotFound",
        &[400],
        Never,
        Some("RegionId"),
        "The source region does not exist. Set RegionId to the region where the source image is, as shown in the image list.",
        "源地域不存在。请将 RegionId 设为源镜像所在的地域(以镜像列表中显示的为准)。",
    ),
    e(
        "DestinationRegion.NotFound",
        &[400],
        Never,
        Some("DestinationRegionId"),
        "The destination region does not exist. Choose the destination from the region list (DescribeRegions).",
        "目标地域不存在。请从地域列表(DescribeRegions)中选择目标地域。",
    ),
    e(
        "IncorrectDestinationRegion",
        &[403],
        Never,
        Some("DestinationRegionId"),
        "The destination region is the same as the source region. Choose a different destination region; to duplicate an image within a region, create a new image from its snapshots instead.",
        "目标地域与源地域相同。请选择其他目标地域;如需在同一地域内复制镜像,请基于其快照创建新镜像。",
    ),
    e(
        "RegionNotSupportCopy",
        &[403],
        Never,
        Some("DestinationRegionId"),
        "Images cannot be copied between these regions. Choose another destination region, or export the image to OSS and import it in the target region.",
        "这两个地域之间不支持复制镜像。请选择其他目标地域,或将镜像导出到 OSS 后在目标地域导入。",
    ),
    // ---- Image attributes ----
    e(
        "InvalidImageName.Malformed",
        &[400],
        Never,
        Some("ImageName"),
        "The image name is not valid. Use 2 to 128 characters, start with a letter or a Chinese character, and use only letters, Chinese characters, digits, periods (.), colons (:), underscores (_) and hyphens (-); do not start with aliyun or acs: and do not include http:// or https://.",
        "镜像名称不合法。长度为 2~128 个字符,须以大小写字母或中文开头,只能包含字母、中文、数字、半角句号(.)、冒号(:)、下划线(_)和短划线(-),不能以 aliyun 或 acs: 开头,不能包含 http:// 或 https://。",
    ),
    e(
        "InvalidImageName.Duplicated",
        &[400],
        Never,
        Some("ImageName"),
        "An image with this name already exists in this region. Choose another name, or rename or delete the existing image.",
        "该地域中已存在同名镜像。请换一个名称,或重命名、删除已有镜像。",
    ),
    // ModifyImageAttribute also documents it with 403.
    e(
        "InvalidDescription.Malformed",
        &[400, 403],
        Never,
        Some("Description"),
        "The description is not valid. Use 2 to 256 characters and do not start with http:// or https://, or leave it empty.",
        "描述信息不合法。长度须为 2~256 个字符,且不能以 http:// 或 https:// 开头;也可以不填写。",
    ),
    e(
        "InvalidImageFamily.Malformed",
        &[400],
        Never,
        Some("ImageFamily"),
        "The image family name is not valid. Use 2 to 128 characters, start with a letter or a Chinese character, use only letters, Chinese characters, digits, periods, colons, underscores and hyphens; do not start with aliyun or acs: and do not include http:// or https://.",
        "镜像族系名称不合法。长度为 2~128 个字符,须以字母或中文开头,只能包含字母、中文、数字、半角句号、冒号、下划线和短划线,不能以 aliyun 或 acs: 开头,不能包含 http:// 或 https://。",
    ),
    e(
        "ImageQuotaFull.ImageFamily",
        &[400],
        Never,
        Some("ImageFamily"),
        "This image family already holds the maximum number of images. Delete older images in the family or remove them from it, or put this image in another family.",
        "该镜像族系中的镜像数量已达上限。请删除族系中较旧的镜像或将其移出族系,或将此镜像放入其他族系。",
    ),
    e(
        "ImageFamilyQuotaFull",
        &[400],
        Never,
        Some("ImageFamily"),
        "This region already has the maximum number of image families. Reuse an existing image family, or retire a family you no longer need by removing it from all of its images.",
        "该地域的镜像族系数量已达上限。请使用已有的镜像族系,或将不再需要的族系从其所有镜像上移除。",
    ),
    e(
        "InvalidBootMode.NotSupport",
        &[400],
        Never,
        Some("BootMode"),
        "This boot mode is not supported for the image. Choose BIOS, UEFI or UEFI-Preferred according to what the image's operating system supports (arm64 images need UEFI).",
        "该镜像不支持此启动模式。请根据镜像操作系统的支持情况选择 BIOS、UEFI 或 UEFI-Preferred(arm64 镜像必须使用 UEFI)。",
    ),
    e(
        "InvalidLicenseType.NotSupported",
        &[400],
        Never,
        Some("LicenseType"),
        "This license type is not supported here. ImportImage accepts Auto, Aliyun or BYOL; ModifyImageAttribute accepts only BYOL.",
        "此处不支持该许可证类型。导入镜像可选 Auto、Aliyun 或 BYOL;修改镜像属性仅支持 BYOL。",
    ),
    e(
        "InvalidLicenseType.BYOLOnly",
        &[400],
        Never,
        Some("LicenseType"),
        "This operating system can only be imported with your own license. Set LicenseType to BYOL and make sure your license allows use on Alibaba Cloud.",
        "该操作系统只能使用自带许可证导入。请将 LicenseType 设为 BYOL,并确认您的许可证允许在阿里云上使用。",
    ),
    e(
        "ImageStatus.NotAvailable",
        &[403],
        Never,
        Some("Status"),
        "The image is not in the Available status, so this status change is not allowed. Wait until the image is Available (check its status in the image list), then try again.",
        "镜像当前不是可用(Available)状态,不能进行此状态变更。请等待镜像变为 Available(可在镜像列表中查看)后重试。",
    ),
    e(
        "ImageStatus.NotDeprecated",
        &[403],
        Never,
        Some("Status"),
        "The image is not deprecated, so it cannot be restored to Available. Only Deprecated images can be set back to Available; refresh the image list to see its current status.",
        "镜像未处于弃用(Deprecated)状态,无法恢复为可用。只有已弃用的镜像才能恢复为 Available;请刷新镜像列表查看其当前状态。",
    ),
    e(
        "OperationDeined.ImageUsingByInstance",
        &[403],
        Never,
        Some("BootMode"),
        "The boot mode cannot be changed while instances were created from this image. Release those instances or replace their system disks first, or create a new image with the boot mode you need.",
        "镜像存在关联实例时不能修改启动模式。请先释放这些实例或更换其系统盘,或使用所需的启动模式创建新镜像。",
    ),
    e(
        "InvalidOperation.FeaturesImdsSupportNotMatch",
        &[403],
        Never,
        Some("Features.ImdsSupport"),
        "The metadata access mode cannot be changed from v2 back to v1. Keep v2, or create or import a new image with Features.ImdsSupport set to v1.",
        "元数据访问模式不能从 v2 改回 v1。请保持 v2,或创建、导入一个 Features.ImdsSupport 为 v1 的新镜像。",
    ),
    e(
        "InvalidStatus.ImageIsCreating",
        &[403],
        Never,
        Some("ImageId"),
        "The image is still being created. Wait until its status is Available (the progress is shown in the image and task lists), then try again.",
        "镜像仍在创建中。请等待其状态变为 Available(可在镜像列表和任务列表中查看进度)后重试。",
    ),
    e(
        "InvalidOperation.PublicImageUnsupported",
        &[403],
        Never,
        Some("ImageId"),
        "This community image was published by another account, so only its publisher can modify it. Choose one of your own custom images.",
        "该社区镜像由其他账号发布,只有发布者可以修改。请选择您自己的自定义镜像。",
    ),
    e(
        "ImageUseShared",
        &[403],
        Never,
        Some("ImageId"),
        "The image is shared with other accounts. Remove all accounts from its share list (share permissions) first, then try again.",
        "该镜像已共享给其他账号。请先在共享设置中移除所有共享账号,然后重试。",
    ),
    e(
        "ImageUsingByInstance",
        &[403],
        Never,
        Some("ImageId"),
        "Instances still use this image. Delete it with the Force option (those instances keep running but can no longer re-initialise their system disks), or release or replace their system disks first.",
        "仍有实例在使用该镜像。可勾选强制删除(Force,相关实例仍可运行,但无法再重新初始化系统盘),或先释放这些实例或更换其系统盘。",
    ),
    e(
        "IncorrectImageStatus",
        &[400],
        Never,
        Some("ImageId"),
        "The image's status does not allow this operation (for example it is still importing or copying, or its creation failed). Check its status in the image list and wait until it is Available; to cancel a copy, the copy must still be in progress.",
        "镜像当前状态不允许此操作(例如仍在导入、复制中,或创建失败)。请在镜像列表中查看状态并等待其变为 Available;取消复制时,复制任务必须仍在进行中。",
    ),
    e(
        "InvalidImageId.NotFound",
        &[404],
        Never,
        Some("ImageId"),
        "The image does not exist in this account and region. Check the image ID, that RegionId is the region where the image is, and that it has not been deleted; refresh the image list.",
        "该镜像在当前账号和地域下不存在。请检查镜像 ID,确认 RegionId 是镜像所在的地域且镜像未被删除,并刷新镜像列表。",
    ),
    e(
        "InvalidImageId.BidMismatch",
        &[403],
        Never,
        Some("ImageId"),
        "The image and the target account belong to different Alibaba Cloud sites (for example China site and international site), so it cannot be shared with that account. Share only with accounts on the same site.",
        "镜像与目标账号属于不同的阿里云站点(例如中国站与国际站),无法共享给该账号。请只共享给同一站点的账号。",
    ),
    e(
        "QuotaExceed.Image",
        &[403],
        Never,
        None,
        "The custom image quota in this region is used up. Delete custom images you no longer need, or request a higher quota in the Quota Center, then try again.",
        "该地域的自定义镜像配额已用完。请删除不再需要的自定义镜像,或在配额中心申请提高配额,然后重试。",
    ),
    e(
        "QuotaExceed.Snapshot",
        &[403],
        Never,
        None,
        "The snapshot quota is used up, and importing or copying an image creates snapshots. Delete snapshots you no longer need, or request a higher quota in the Quota Center, then try again.",
        "快照配额已用完,而导入或复制镜像需要创建快照。请删除不再需要的快照,或在配额中心申请提高配额,然后重试。",
    ),
    e(
        "SizeExceed.Image",
        &[403],
        Never,
        Some("ImageId"),
        "The image is too large to be copied. Create an image with fewer or smaller disks (for example only the system disk) and copy that instead.",
        "镜像过大,无法复制。请创建包含更少或更小磁盘的镜像(例如只含系统盘)后再复制。",
    ),
    e(
        "OperationDenied.ImageCopying",
        &[403],
        Never,
        Some("ImageId"),
        "The image is being copied. Wait for the copy to finish, or cancel it (CancelCopyImage on the copy in the destination region), then try again.",
        "镜像正在复制中。请等待复制完成,或在目标地域对副本执行取消复制(CancelCopyImage),然后重试。",
    ),
    e(
        "OperationDenied.SameRegionOnly",
        &[403],
        Never,
        Some("DestinationRegionId"),
        "An image shared with you can only be copied within its own region. Copy it into your account in the same region first, then copy that copy to the other region.",
        "共享给您的镜像只能在同一地域内复制。请先在同一地域复制为您自己的镜像,再将该副本复制到其他地域。",
    ),
    e(
        "OperationDeined.EncryptedSnapshot",
        &[403],
        Never,
        None,
        "The image contains encrypted snapshots, which this operation does not allow (encrypted images cannot be shared or published). Use an image built from unencrypted snapshots.",
        "镜像包含加密快照,此操作不允许(加密镜像不能共享或发布)。请使用由未加密快照创建的镜像。",
    ),
    e(
        "ImageCreatedNotFromCopy",
        &[400],
        Never,
        Some("ImageId"),
        "This image was not created by copying, so there is no copy to cancel. Give the ID of the copy and set RegionId to the copy's destination region.",
        "该镜像不是通过复制创建的,没有可取消的复制任务。请填写副本镜像的 ID,并将 RegionId 设为副本所在的目标地域。",
    ),
    e(
        "CancelNotSupported",
        &[400],
        Never,
        Some("ImageId"),
        "This copy can no longer be cancelled. Wait for it to finish and delete the copied image if you do not need it.",
        "该复制任务已无法取消。请等待其完成,如不需要可删除复制出的镜像。",
    ),
    // ExportImage: no HTTP status documented for these.
    e(
        "ImageNotSupported",
        &[],
        Never,
        Some("ImageId"),
        "This image cannot be exported: Alibaba Cloud Marketplace images and encrypted images are not exportable. Export a custom image built from your own unencrypted snapshots.",
        "该镜像不支持导出:云市场镜像和加密镜像均不能导出。请导出由您自己的未加密快照创建的自定义镜像。",
    ),
    e(
        "InvalidImage.DiskAmountOrSize",
        &[],
        Never,
        Some("ImageId"),
        "The image has too many disks or a disk that is too large to export. Export an image with fewer or smaller disks, for example one that holds only the system disk.",
        "镜像包含的磁盘数量过多或磁盘过大,无法导出。请导出磁盘更少或更小的镜像,例如只含系统盘的镜像。",
    ),
    e(
        "ConcurrentQuotaExceed.ExportImage",
        &[],
        Never,
        None,
        "Too many image exports are running in this region. Wait for a running export task to finish (see the task list), then start this one.",
        "该地域正在进行的镜像导出任务过多。请等待正在运行的导出任务完成(见任务列表)后再开始。",
    ),
    e(
        "WeeklyQuotaExceed.ExportImage",
        &[],
        Never,
        None,
        "The weekly image export quota is used up. Try again next week, or contact Alibaba Cloud support if you need more exports.",
        "本周的镜像导出次数已用完。请下周再试,如需更多导出次数请联系阿里云技术支持。",
    ),
    // ---- ImportImage / ExportImage inputs ----
    e(
        "InvalidArchitecture.Malformed",
        &[400],
        Never,
        Some("Architecture"),
        "The architecture is not valid. Choose i386, x86_64 or arm64 (ENS accepts only x86_64), matching the operating system in the image file.",
        "系统架构不合法。请选择 i386、x86_64 或 arm64(ENS 仅支持 x86_64),并与镜像文件中的操作系统一致。",
    ),
    e(
        "InvalidPlatform.Malformed",
        &[400],
        Never,
        Some("Platform"),
        "The operating system distribution is not valid. Choose a value from the Platform list (for example CentOS, Ubuntu, Aliyun, Windows Server 2019) or Others Linux.",
        "操作系统发行版不合法。请从 Platform 列表中选择(例如 CentOS、Ubuntu、Aliyun、Windows Server 2019),或选择 Others Linux。",
    ),
    e(
        "InvalidOSType.Malformed",
        &[400],
        Never,
        Some("OSType"),
        "The operating system type is not valid. Choose linux or windows, matching the image file.",
        "操作系统类型不合法。请选择 linux 或 windows,并与镜像文件一致。",
    ),
    e(
        "InvalidImageFormat.Malformed",
        &[400],
        Never,
        Some("DiskDeviceMapping.N.Format"),
        "The image file format is not supported. Use RAW, VHD or QCOW2 (VMDK is in preview), or leave the format empty to auto-detect; make sure the file really is in that format (convert it with qemu-img if needed).",
        "镜像文件格式不受支持。请使用 RAW、VHD 或 QCOW2(VMDK 处于邀测),或不填写以自动识别;并确认文件确实是该格式(必要时用 qemu-img 转换)。",
    ),
    e(
        "InvalidFormat.Malformed",
        &[400],
        Never,
        Some("DiskDeviceMapping.N.Format"),
        "The image file format is not supported (older ECS code). Use RAW or VHD (current regions also accept QCOW2), or leave the format empty, and make sure the file really is in that format.",
        "镜像文件格式不受支持(ECS 旧版错误码)。请使用 RAW 或 VHD(现在的地域也支持 QCOW2),或不填写格式,并确认文件确实是该格式。",
    ),
    e(
        "InvalidImageSize",
        &[400],
        Never,
        Some("DiskDeviceMapping.N.DiskImageSize"),
        "The disk size is not valid. DiskImageSize must be 1 to 2048 GiB and at least the virtual size of the image file (see qemu-img info). Increase it, or leave it empty to size the disk automatically.",
        "磁盘大小不合法。DiskImageSize 须为 1~2048 GiB,且不小于镜像文件的虚拟大小(可用 qemu-img info 查看)。请调大该值,或不填写以自动确定。",
    ),
    e(
        "InvalidDataDiskSize",
        &[400],
        Never,
        Some("DiskDeviceMapping.N.DiskImageSize"),
        "A data disk size is not valid. Each data disk must be 1 to 2048 GiB and at least the size of its image file; adjust DiskImageSize for that disk or leave it empty.",
        "数据盘大小不合法。每块数据盘须为 1~2048 GiB 且不小于对应的镜像文件;请调整该磁盘的 DiskImageSize 或不填写。",
    ),
    e(
        "InvalidOSSBucket.NotFound",
        &[400],
        Never,
        Some("DiskDeviceMapping.N.OSSBucket"),
        "The OSS bucket was not found in this region. Check the bucket name and that the bucket is in the same region as the image (RegionId); upload the file to a bucket in that region if needed.",
        "在该地域未找到此 OSS Bucket。请检查 Bucket 名称,并确认其与镜像位于同一地域(RegionId);必要时将文件上传到该地域的 Bucket。",
    ),
    e(
        "InvalidOSSBucket.NotMatched",
        &[400],
        Never,
        Some("DiskDeviceMapping.N.OSSBucket"),
        "The OSS bucket is not in the region you are importing into or exporting from. Use the bucket's region as RegionId, or copy the file to a bucket in the target region.",
        "OSS Bucket 与导入或导出的地域不一致。请将 RegionId 设为 Bucket 所在地域,或将文件复制到目标地域的 Bucket 中。",
    ),
    e(
        "InvalidOSSObject.NotFound",
        &[400],
        Never,
        Some("DiskDeviceMapping.N.OSSObject"),
        "The image file was not found in the OSS bucket. Check the object name (full path, case-sensitive) and that the upload completed; upload the file again if needed.",
        "在 OSS Bucket 中未找到该镜像文件。请检查 Object 名称(完整路径,区分大小写)并确认上传已完成;必要时重新上传。",
    ),
    e(
        "InvalidOSSObject.Malformed",
        &[400],
        Never,
        Some("DiskDeviceMapping.N.OSSObject"),
        "The OSS object name is not valid. Give the object's full key as stored in the bucket (without a leading / and without the bucket name).",
        "OSS Object 名称不合法。请填写 Bucket 中对象的完整名称(不要以 / 开头,也不要包含 Bucket 名称)。",
    ),
    e(
        "ImageIsImporting",
        &[403],
        Never,
        Some("ImageId"),
        "The image is still being imported. Wait for the import task to finish, or cancel it with CancelTask, before deleting or changing the image.",
        "镜像仍在导入中。请等待导入任务完成,或先通过取消任务(CancelTask)终止导入,再删除或修改该镜像。",
    ),
    e(
        "ImageIsExporting",
        &[403],
        Never,
        Some("ImageId"),
        "The image is being exported. Wait for the export task to finish, or cancel it with CancelTask, then try again.",
        "镜像正在导出中。请等待导出任务完成,或通过取消任务(CancelTask)终止导出,然后重试。",
    ),
    e(
        "ImportImageFailed",
        &[403],
        Never,
        None,
        "The image import failed. Check that the image file is complete, bootable and in the declared format, that its operating system is supported, and that the role AliyunECSImageImportDefaultRole is authorised; the task details may give the reason. Then import again.",
        "镜像导入失败。请确认镜像文件完整、可启动且格式与声明一致,操作系统受支持,并已授权角色 AliyunECSImageImportDefaultRole;任务详情中可能给出原因。然后重新导入。",
    ),
    e(
        "InvalidOSSPrefix.Malformed",
        &[400],
        Never,
        Some("OSSPrefix"),
        "The OSS prefix is not valid. Use 1 to 30 letters or digits only (no slashes, hyphens or underscores).",
        "OSS 前缀不合法。只能使用 1~30 个字母或数字(不能包含斜杠、短划线或下划线)。",
    ),
    // ---- Tags and resource groups ----
    e(
        "InvalidTagKey.Malformed",
        &[400],
        Never,
        Some("Tag.N.Key"),
        "A tag key is not valid. Use 1 to 128 characters, do not start with aliyun or acs:, and do not include http:// or https://.",
        "标签键不合法。长度为 1~128 个字符,不能以 aliyun 或 acs: 开头,不能包含 http:// 或 https://。",
    ),
    e(
        "InvalidTagValue.Malformed",
        &[400],
        Never,
        Some("Tag.N.Value"),
        "A tag value is not valid. Use at most 128 characters, do not start with acs:, and do not include http:// or https://.",
        "标签值不合法。最多 128 个字符,不能以 acs: 开头,不能包含 http:// 或 https://。",
    ),
    e(
        "Duplicate.TagKey",
        &[400],
        Never,
        Some("Tag.N.Key"),
        "The same tag key appears more than once. Give each tag a unique key, or merge the duplicates.",
        "存在重复的标签键。请确保每个标签的键唯一,或合并重复的标签。",
    ),
    e(
        "InvalidTagCount",
        &[400],
        Never,
        Some("Tag.N.Key"),
        "Too many tags in one request. Keep at most 20 tags and remove the rest.",
        "单次请求中的标签过多。最多保留 20 个标签,请删除多余的标签。",
    ),
    e(
        "InvalidTag.Mismatch",
        &[400],
        Never,
        Some("Tag.N.Key"),
        "Tag keys and values do not pair up: every Tag.N.Value needs a Tag.N.Key with the same N. Fill in the missing key or remove the stray value.",
        "标签键与标签值不匹配:每个 Tag.N.Value 都需要一个相同序号 N 的 Tag.N.Key。请补全缺少的键或删除多余的值。",
    ),
    e(
        "QuotaExceed.Tags",
        &[403],
        Never,
        Some("Tag.N.Key"),
        "The resource would exceed the maximum number of tags. Remove tags the resource no longer needs before adding new ones.",
        "资源的标签数量将超过上限。请先删除不再需要的标签,再添加新标签。",
    ),
    e(
        "InvalidResourceGroup.NotFound",
        &[404],
        Never,
        Some("ResourceGroupId"),
        "The resource group does not exist. Choose an existing resource group ID (rg-...) from the Resource Management console, or leave it empty to use the default group.",
        "资源组不存在。请从资源管理控制台选择已有的资源组 ID(rg-...),或不填写以使用默认资源组。",
    ),
    // ---- CreateImage sources ----
    e(
        "InvalidSnapshotId.NotFound",
        &[404],
        Never,
        Some("SnapshotId"),
        "The snapshot does not exist in this region. Check the snapshot ID (s-...) and that RegionId is the snapshot's region.",
        "该地域中不存在此快照。请检查快照 ID(s-...),并确认 RegionId 是快照所在的地域。",
    ),
    e(
        "InvalidSnapshotId.NotReady",
        &[403],
        Never,
        Some("SnapshotId"),
        "The snapshot is not complete yet. Wait until its progress reaches 100 percent, then create the image.",
        "快照尚未创建完成。请等待其进度达到 100% 后再创建镜像。",
    ),
    e(
        "InvalidInstanceId.NotFound",
        &[404],
        Never,
        Some("InstanceId"),
        "The instance does not exist in this region. Check the instance ID (i-...) and that RegionId is the instance's region.",
        "该地域中不存在此实例。请检查实例 ID(i-...),并确认 RegionId 是实例所在的地域。",
    ),
    e(
        "IncorrectInstanceStatus",
        &[400],
        Never,
        Some("InstanceId"),
        "The instance's status does not allow creating an image (for example it is starting, stopping or expired). Wait until it is Running or Stopped, then try again.",
        "实例当前状态不允许创建镜像(例如正在启动、停止或已过期)。请等待其变为运行中(Running)或已停止(Stopped)后重试。",
    ),
    // ---- Tasks ----
    e(
        "InvalidTaskId.NotFound",
        &[400],
        Never,
        Some("TaskId"),
        "The task does not exist in this region. Check the task ID (t-...) and that RegionId is the region where the task was started; refresh the task list.",
        "该地域中不存在此任务。请检查任务 ID(t-...),并确认 RegionId 是任务发起的地域;请刷新任务列表。",
    ),
    e(
        "InvalidTaskId.IncorrectTaskStatus",
        &[403],
        Never,
        Some("TaskId"),
        "The task is no longer running (it finished, failed or was cancelled), so it cannot be cancelled. Refresh the task list to see its final status.",
        "任务已不在运行(已完成、失败或已取消),无法取消。请刷新任务列表查看其最终状态。",
    ),
    e(
        "InvalidTaskId.TaskActionNotSupport",
        &[403],
        Never,
        Some("TaskId"),
        "This kind of task cannot be cancelled. Only ImportImage and ExportImage tasks can be cancelled.",
        "此类任务不支持取消。只有导入镜像(ImportImage)和导出镜像(ExportImage)任务可以取消。",
    ),
    e(
        "CancelTaskFailed",
        &[403],
        Never,
        Some("TaskId"),
        "The task could not be cancelled, possibly because it is about to finish. Refresh its status; if it completes, delete the resulting image if you do not need it.",
        "任务取消失败,可能即将完成。请刷新任务状态;如任务已完成且不需要生成的镜像,可将其删除。",
    ),
    // ---- DescribeImages filters ----
    e(
        "InvalidImageOwnerAlias.ValueNotSupported",
        &[400],
        Never,
        Some("ImageOwnerAlias"),
        "The image owner filter is not valid. Choose system, self, others or marketplace, or leave it empty.",
        "镜像来源筛选值不合法。请选择 system、self、others 或 marketplace,或不填写。",
    ),
    e(
        "InvalidFilterKey.NotFound",
        &[404],
        Never,
        Some("Filter.N.Key"),
        "The filter key is not supported. Use CreationStartTime or CreationEndTime (values in UTC as yyyy-MM-ddTHH:mmZ).",
        "不支持该筛选键。请使用 CreationStartTime 或 CreationEndTime(取值为 UTC 时间 yyyy-MM-ddTHH:mmZ)。",
    ),
    e(
        "InvalidUsage",
        &[404],
        Never,
        Some("Usage"),
        "The usage filter is not valid. Choose instance (images in use by instances) or none.",
        "使用情况筛选值不合法。请选择 instance(已被实例使用)或 none。",
    ),
    e(
        "InvalidInstanceType.ValueNotSupported",
        &[400],
        Never,
        Some("InstanceType"),
        "The instance type filter is not valid in this region. Choose an instance type offered in the region (for example ecs.g7.large) or leave it empty.",
        "实例规格筛选值在该地域无效。请选择该地域提供的实例规格(例如 ecs.g7.large)或不填写。",
    ),
    e(
        "InvalidOSType",
        &[404],
        Never,
        Some("OSType"),
        "The operating system type filter is not valid. Choose linux or windows, or leave it empty.",
        "操作系统类型筛选值不合法。请选择 linux 或 windows,或不填写。",
    ),
    e(
        "InvalidArchitecture",
        &[404],
        Never,
        Some("Architecture"),
        "The architecture filter is not valid. Choose i386, x86_64 or arm64, or leave it empty.",
        "系统架构筛选值不合法。请选择 i386、x86_64 或 arm64,或不填写。",
    ),
    // ---- Image sharing ----
    e(
        "InvalidAccount.NotFound",
        &[404],
        Never,
        Some("AddAccount.N"),
        "The Alibaba Cloud account to share with does not exist. Check the account ID (the numeric account UID, not a login name).",
        "要共享的阿里云账号不存在。请检查账号 ID(填写数字形式的账号 UID,而不是登录名)。",
    ),
    e(
        "InvalidAccount.Forbbiden",
        &[404],
        Never,
        Some("AddAccount.N"),
        "You cannot share an image with your own account. Remove your own account ID from the list.",
        "不能将镜像共享给自己的账号。请从列表中删除您自己的账号 ID。",
    ),
    e(
        "QuotaExceed.ShareImage",
        &[403],
        Never,
        Some("ImageId"),
        "You have reached the maximum number of shared images. Stop sharing images you no longer need to share, or request a higher quota.",
        "已共享的镜像数量达到上限。请取消不再需要共享的镜像,或申请提高配额。",
    ),
    e(
        "QuotaExceed.ShareImageUser",
        &[403],
        Never,
        Some("AddAccount.N"),
        "The image is already shared with the maximum number of accounts. Remove accounts that no longer need it before adding new ones.",
        "该镜像共享的账号数量已达上限。请先移除不再需要的账号,再添加新账号。",
    ),
    // ---- E-HPC Instant 2023-07-01 (seed 000) ----
    e(
        "InvalidParams",
        &[400],
        Never,
        None,
        "An E-HPC parameter is not valid; the server message names it. Check it: Name is required, ImageType is VM or Container, VMImageSpec.ImageId must be an ECS image ID (m-...), and ContainerImageSpec.RegistryUrl must be a full image address.",
        "E-HPC 参数无效,服务端返回的信息中给出了参数名。请检查:Name 为必填;ImageType 为 VM 或 Container;VMImageSpec.ImageId 须为 ECS 镜像 ID(m-...);ContainerImageSpec.RegistryUrl 须为完整的镜像地址。",
    ),
    e(
        "ImageAlreadyExists",
        &[400],
        Never,
        Some("VMImageSpec"),
        "This image ID is already registered in E-HPC. Use the existing entry from the E-HPC image list, or remove it first and add it again.",
        "该镜像 ID 已在 E-HPC 中登记。请使用 E-HPC 镜像列表中的现有条目,或先将其移除后再重新添加。",
    ),
    e(
        "InDebt",
        &[400],
        Never,
        None,
        "Your account has overdue payments. Settle the balance in the Billing console; E-HPC operations work again after that.",
        "您的账号已欠费。请在费用中心结清欠款,之后即可继续使用 E-HPC。",
    ),
    e(
        "NotEnabled",
        &[400],
        Never,
        None,
        "E-HPC is not activated for this account. Activate the service on its product page or in the console, then try again.",
        "当前账号尚未开通 E-HPC 服务。请在产品页面或控制台开通后重试。",
    ),
    e(
        "ImageInUse",
        &[403],
        Never,
        Some("ImageId"),
        "Jobs still use this image. Wait for those jobs to finish or delete them, then remove the image.",
        "仍有作业在使用该镜像。请等待这些作业结束或将其删除后,再移除镜像。",
    ),
    e(
        "ImageNotFound",
        &[404],
        Never,
        Some("ImageId"),
        "The image does not exist in E-HPC. Check the image ID and the region, and refresh the E-HPC image list.",
        "该镜像在 E-HPC 中不存在。请检查镜像 ID 和地域,并刷新 E-HPC 镜像列表。",
    ),
    e(
        "EcsError",
        &[406],
        Never,
        None,
        "E-HPC failed while calling ECS for you. Check that the ECS image exists, is Available and is in the same region, and that the account may use ECS; then try again.",
        "E-HPC 代您调用 ECS 接口时出错。请确认该 ECS 镜像存在、状态为可用(Available)且位于同一地域,并确认账号可以使用 ECS,然后重试。",
    ),
    e(
        "AliyunError",
        &[406],
        Never,
        None,
        "Another Alibaba Cloud product returned an error to E-HPC; the server message gives the details. Fix the cause named there, then try again.",
        "其他阿里云产品向 E-HPC 返回了错误,服务端返回的信息中包含详情。请按其中指出的原因处理后重试。",
    ),
    e(
        "DbError",
        &[406],
        Never,
        None,
        "E-HPC had a database error. Wait a moment and submit again; if it keeps failing, contact Alibaba Cloud support with the RequestId.",
        "E-HPC 发生数据库错误。请稍候再次提交;如持续失败,请携带 RequestId 联系阿里云技术支持。",
    ),
    e(
        "NotAuthorized",
        &[407],
        Never,
        None,
        "No authorisation has been granted for this E-HPC operation. Ask the account administrator to grant your RAM identity the ehpc permission for this action, and complete any service authorisation the E-HPC console asks for.",
        "未获得执行此 E-HPC 操作的授权。请联系主账号管理员为您的 RAM 身份授予相应的 ehpc 权限,并完成 E-HPC 控制台要求的服务授权。",
    ),
    // ---- OSS REST errors (oss-upload.md §4); shared names are above ----
    e(
        "AccessDenied",
        &[403],
        Never,
        None,
        "OSS denied access. Check that your RAM identity may write to the bucket (oss:PutObject and the multipart upload actions) and that no bucket policy blocks it; also check the computer clock and, for a presigned URL, that it has not expired.",
        "OSS 拒绝访问。请确认您的 RAM 身份拥有向该 Bucket 写入的权限(oss:PutObject 及分片上传相关操作),且 Bucket 策略未加以限制;同时检查本机时钟,若使用预签名 URL 请确认其未过期。",
    ),
    e(
        "RequestTimeTooSkewed",
        &[403],
        ResignFreshTime,
        Some("Date"),
        "The request time is more than 15 minutes away from OSS time. ImageDesk re-signs once with the current time; if that fails too, synchronise this computer's clock (enable automatic time/NTP).",
        "请求时间与 OSS 服务器时间相差超过 15 分钟。ImageDesk 会使用当前时间重新签名并重试一次;若仍失败,请同步本机时钟(开启自动对时/NTP)。",
    ),
    // Exact OSS code for an expired STS token is unverified (signing.md §3); this is the documented class.
    e(
        "SecurityTokenExpired",
        &[403],
        RefreshCredentials,
        Some("x-oss-security-token"),
        "The STS security token used for OSS has expired. ImageDesk obtains fresh temporary credentials and retries once; the multipart upload resumes from the parts already uploaded.",
        "访问 OSS 所用的 STS 安全令牌已过期。ImageDesk 会获取新的临时凭证并重试一次;分片上传会从已上传的分片处继续。",
    ),
    e(
        "NoSuchBucket",
        &[404],
        Never,
        Some("Bucket"),
        "The OSS bucket does not exist. Check the bucket name and its region (the endpoint must be that region's), or create the bucket in the region where you will import the image.",
        "OSS Bucket 不存在。请检查 Bucket 名称及其所在地域(接入点须为该地域),或在准备导入镜像的地域创建该 Bucket。",
    ),
    e(
        "NoSuchKey",
        &[404],
        Never,
        Some("Key"),
        "The OSS object does not exist. Check the object name (full path, case-sensitive), or upload the file first.",
        "OSS 对象不存在。请检查对象名称(完整路径,区分大小写),或先上传该文件。",
    ),
    e(
        "NoSuchUpload",
        &[404],
        Never,
        Some("uploadId"),
        "The multipart upload no longer exists (it was completed, aborted or removed by a lifecycle rule). Start a new upload of the file.",
        "该分片上传任务已不存在(已完成、已取消或被生命周期规则清除)。请重新开始上传该文件。",
    ),
    e(
        "InvalidArgument",
        &[400],
        Never,
        None,
        "OSS rejected an argument (the ArgumentName element names it): for example a part number outside 1 to 10000, a single PutObject larger than 5 GB (use multipart upload), or an unknown storage class. Correct it and upload again.",
        "OSS 拒绝了某个参数(错误信息中的 ArgumentName 给出参数名):例如分片号不在 1~10000 之间、单次 PutObject 超过 5 GB(请改用分片上传)或存储类型无效。请修正后重新上传。",
    ),
    e(
        "InvalidDigest",
        &[400],
        Never,
        Some("Content-MD5"),
        "The data OSS received does not match its Content-MD5: the file or part was changed while uploading or corrupted in transit. Make sure nothing modifies the local file, then upload that part again.",
        "OSS 收到的数据与 Content-MD5 不一致:文件或分片在上传过程中被修改,或在传输中损坏。请确认本地文件没有被改动,然后重新上传该分片。",
    ),
    e(
        "EntityTooSmall",
        &[400],
        Never,
        None,
        "A part other than the last one is smaller than 100 KB. Use a larger part size and upload the file again.",
        "除最后一个分片外,存在小于 100 KB 的分片。请使用更大的分片大小重新上传文件。",
    ),
    e(
        "InvalidPart",
        &[400],
        Never,
        None,
        "A part listed for completion is missing or its ETag does not match. List the uploaded parts, upload the missing ones again, then complete the upload again.",
        "完成上传时列出的某个分片不存在或 ETag 不匹配。请列出已上传的分片,重新上传缺失的分片后再完成上传。",
    ),
    e(
        "InvalidPartOrder",
        &[400],
        Never,
        None,
        "The parts were not listed in ascending part-number order when completing the upload. Sort them by part number and complete the upload again.",
        "完成上传时分片未按分片号升序排列。请按分片号排序后重新完成上传。",
    ),
    e(
        "MissingContentLength",
        &[411],
        Never,
        Some("Content-Length"),
        "The upload was sent without a Content-Length header. Check that no proxy switches the upload to chunked encoding, then upload again.",
        "上传请求缺少 Content-Length 请求头。请确认没有代理将请求改为分块传输编码,然后重新上传。",
    ),
    e(
        "FileAlreadyExists",
        &[409],
        Never,
        Some("x-oss-forbid-overwrite"),
        "An object with this name already exists and overwriting is forbidden. Choose another object name, or allow overwriting the existing object.",
        "同名对象已存在且禁止覆盖。请换一个对象名称,或允许覆盖已有对象。",
    ),
    e(
        "RequestTimeout",
        &[400],
        Never,
        None,
        "OSS received less data than announced (the connection stalled or broke). Check the network connection and upload the part again; the multipart upload can be resumed.",
        "OSS 收到的数据少于声明的长度(连接停滞或中断)。请检查网络连接后重新上传该分片;分片上传可以续传。",
    ),
    e(
        "InvalidObjectName",
        &[400],
        Never,
        Some("Key"),
        "The object name is not valid. Use 1 to 1023 bytes of UTF-8 that do not start with a slash.",
        "对象名称不合法。请使用 1~1023 字节的 UTF-8 名称,且不要以斜杠开头。",
    ),
    // The official Go SDK v2 retries this code (oss-upload.md §4).
    e(
        "BadRequest",
        &[400],
        Backoff,
        None,
        "OSS rejected the request as malformed. ImageDesk retries it with backoff, as the official SDK does; if it keeps failing, check the bucket endpoint and the object name.",
        "OSS 认为请求格式不正确。ImageDesk 会像官方 SDK 一样按退避策略重试;若持续失败,请检查 Bucket 接入点和对象名称。",
    ),
    // ---- Apsara Stack route gateway (seed 004): no code, only resultCode -1 / "system error" ----
    e(
        APSARA_ROUTE_FAILURE,
        &[],
        Never,
        None,
        "The Apsara Stack gateway answered with resultCode -1 (system error) instead of a result. Check the endpoint and path in the profile (the ASAPI gateway /asapi/v3 or the /apsara/route/<Product>/<Action> style your deployment uses), the organization and resource group IDs, the region ID and the AccessKey; if they are right, ask the Apsara Stack administrator to check the gateway logs.",
        "专有云 Apsara Stack 网关返回 resultCode -1(system error),而不是调用结果。请检查配置中的接入点和路径(ASAPI 网关 /asapi/v3,或您的环境使用的 /apsara/route/<Product>/<Action> 形式)、组织 ID 与资源集 ID、地域 ID 以及 AccessKey;若均正确,请联系专有云管理员查看网关日志。",
    ),
];

/// Advice for an error response. Always answers: the exact catalogue entry; else a code family
/// (`MissingParameter.<Name>`, `InvalidParameter.<Name>`, `Throttling.*`, `InvalidSecurityToken.*`,
/// `Forbidden.*`, `QuotaExceed.*`, `OperationDenied.*`, `*.NotFound`, `*.Malformed`); else by HTTP
/// status (429 and >= 500 back off, anything else is not retried) with a generic message naming the
/// code. The field comes from the entry, the code, or a server message such as
/// `The input parameter "RegionId" that is mandatory ...`.
pub fn advice(code: &str, http_status: u16, server_message: &str) -> Advice {
    let code = code.trim();
    let from_message = field_from_message(server_message);

    if let Some(info) = lookup(code) {
        let field = match (info.field, from_message) {
            // Prefer the concrete name (`DiskDeviceMapping.1.OSSBucket`) when it fits the entry's pattern.
            (Some(pattern), Some(found)) if fits_pattern(pattern, &found) => Some(found),
            (Some(pattern), _) => Some(pattern.to_owned()),
            (None, found) => found,
        };
        return Advice {
            code: code.to_owned(),
            retry: info.retry,
            field,
            en: info.en.to_owned(),
            zh: info.zh.to_owned(),
        };
    }
    if let Some(advice) = family_advice(code, from_message.clone()) {
        return advice;
    }
    // The Apsara route gateway reports only a numeric resultCode; callers may pass it as the code.
    if code.parse::<i64>().is_ok_and(|n| n != 0)
        && let Some(info) = lookup(APSARA_ROUTE_FAILURE)
    {
        return Advice {
            code: code.to_owned(),
            retry: info.retry,
            field: None,
            en: info.en.to_owned(),
            zh: info.zh.to_owned(),
        };
    }
    generic_advice(code, http_status, server_message, from_message)
}

fn family_advice(code: &str, from_message: Option<String>) -> Option<Advice> {
    let make = |retry: Retry, field: Option<String>, en: String, zh: String| Advice {
        code: code.to_owned(),
        retry,
        field,
        en,
        zh,
    };

    if let Some(name) = code.strip_prefix("MissingParameter.") {
        let field = from_message.or_else(|| param_name(name));
        let (en, zh) = match &field {
            Some(f) => (
                format!("The required parameter {f} was not sent. Fill in {f} and submit again."),
                format!("缺少必填参数 {f}。请填写 {f} 后重新提交。"),
            ),
            None => (
                format!(
                    "A required parameter was not sent ({code}). Fill in the field named in the server message and submit again."
                ),
                format!("缺少必填参数({code})。请填写服务端信息中指出的字段后重新提交。"),
            ),
        };
        return Some(make(Retry::Never, field, en, zh));
    }
    if let Some(name) = code.strip_prefix("InvalidParameter.") {
        let field = from_message.or_else(|| param_name(name));
        let (en, zh) = match &field {
            Some(f) => (
                format!(
                    "The value of {f} is not valid. Correct it according to the field's rules (length, allowed characters, allowed values) and submit again."
                ),
                format!("参数 {f} 的取值无效。请按该字段的规则(长度、允许的字符、可选值)修改后重新提交。"),
            ),
            None => (
                format!(
                    "A parameter value is not valid ({code}). Correct the field named in the server message and submit again."
                ),
                format!("参数取值无效({code})。请修改服务端信息中指出的字段后重新提交。"),
            ),
        };
        return Some(make(Retry::Never, field, en, zh));
    }
    if code.starts_with("Throttling.") {
        return Some(make(
            Retry::Backoff,
            None,
            format!(
                "The request was throttled ({code}). ImageDesk waits and retries with exponential backoff; if it keeps happening, run fewer operations at the same time."
            ),
            format!(
                "请求被限流({code})。ImageDesk 会按指数退避等待后自动重试;如持续出现,请减少同时进行的操作。"
            ),
        ));
    }
    if code.starts_with("InvalidSecurityToken.") {
        return Some(make(
            Retry::RefreshCredentials,
            Some("SecurityToken".to_owned()),
            format!(
                "The STS security token is not valid ({code}). ImageDesk obtains fresh temporary credentials and retries once; if it still fails, enter an AccessKey ID, secret and token that were issued together."
            ),
            format!(
                "STS 安全令牌无效({code})。ImageDesk 会获取新的临时凭证并重试一次;若仍失败,请填写同一次签发的 AccessKey ID、Secret 和 Token。"
            ),
        ));
    }
    if code.starts_with("Forbidden.") {
        return Some(make(
            Retry::Never,
            from_message,
            format!(
                "The request was refused ({code}): your account or RAM identity may not do this. Ask the account administrator to grant the permission (see AuthAction in the error details) or lift the restriction named in the server message."
            ),
            format!(
                "请求被拒绝({code}):您的账号或 RAM 身份无权执行此操作。请联系主账号管理员授予相应权限(见错误详情中的 AuthAction),或解除服务端信息中指出的限制。"
            ),
        ));
    }
    if code.starts_with("QuotaExceed.") {
        return Some(make(
            Retry::Never,
            from_message,
            format!(
                "A quota was exceeded ({code}). Delete resources you no longer need or request a higher quota in the Quota Center, then try again."
            ),
            format!("超出配额限制({code})。请删除不再需要的资源,或在配额中心申请提高配额,然后重试。"),
        ));
    }
    // ECS spells it both ways on the wire.
    if code.starts_with("OperationDenied.") || code.starts_with("OperationDeined.") {
        return Some(make(
            Retry::Never,
            from_message,
            format!(
                "The operation is not allowed in the resource's current state ({code}). Check the resource's status and the server message, wait for running tasks to finish, then try again."
            ),
            format!(
                "资源当前状态不允许此操作({code})。请查看资源状态和服务端信息,等待进行中的任务完成后重试。"
            ),
        ));
    }
    if let Some(head) = code.strip_suffix(".NotFound") {
        let field = from_message.or_else(|| field_from_code_head(head));
        let (en, zh) = match &field {
            Some(f) => (
                format!(
                    "The resource given in {f} was not found ({code}). Check the value, that it belongs to this account and to the region you called (RegionId), and that it has not been deleted."
                ),
                format!(
                    "未找到 {f} 指定的资源({code})。请检查取值,确认其属于当前账号和所调用的地域(RegionId),且未被删除。"
                ),
            ),
            None => (
                format!(
                    "The referenced resource was not found ({code}). Check the ID, the account and the region you called."
                ),
                format!("未找到引用的资源({code})。请检查资源 ID、账号以及所调用的地域。"),
            ),
        };
        return Some(make(Retry::Never, field, en, zh));
    }
    if let Some(head) = code.strip_suffix(".Malformed") {
        let field = from_message.or_else(|| field_from_code_head(head));
        let (en, zh) = match &field {
            Some(f) => (
                format!(
                    "The value of {f} is malformed ({code}). Correct its format (length, allowed characters, no http:// or https://) and submit again."
                ),
                format!(
                    "{f} 的取值格式不正确({code})。请修正格式(长度、允许的字符、不能包含 http:// 或 https://)后重新提交。"
                ),
            ),
            None => (
                format!(
                    "A value is malformed ({code}). Correct the field named in the server message and submit again."
                ),
                format!("取值格式不正确({code})。请修正服务端信息中指出的字段后重新提交。"),
            ),
        };
        return Some(make(Retry::Never, field, en, zh));
    }
    None
}

fn generic_advice(code: &str, http_status: u16, server_message: &str, field: Option<String>) -> Advice {
    let retry = if http_status == 429 || http_status >= 500 { Retry::Backoff } else { Retry::Never };
    let shown = if code.is_empty() { "(no code)" } else { code };
    let message = server_message.trim();
    let detail = if message.is_empty() { String::new() } else { format!(": {message}") };
    let (en, zh) = if retry.is_retryable() {
        (
            format!(
                "The service returned error {shown} (HTTP {http_status}){detail}. This looks temporary, so ImageDesk retries with exponential backoff; if it keeps failing, contact Alibaba Cloud support with the RequestId."
            ),
            format!(
                "服务返回错误 {shown}(HTTP {http_status}){detail}。这通常是临时问题,ImageDesk 会按指数退避自动重试;如持续失败,请携带 RequestId 联系阿里云技术支持。"
            ),
        )
    } else {
        (
            format!(
                "The service returned error {shown} (HTTP {http_status}){detail}. Check the values you entered and your permissions for this operation, then submit again; look the code up in the Alibaba Cloud troubleshooting center if the cause is unclear."
            ),
            format!(
                "服务返回错误 {shown}(HTTP {http_status}){detail}。请检查填写的参数以及您对该操作的权限后重新提交;如原因不明,可在阿里云诊断中心查询该错误码。"
            ),
        )
    };
    Advice { code: code.to_owned(), retry, field, en, zh }
}

/// Find the parameter a server message names: a quoted name (`"RegionId"`, also with curly quotes as
/// in old docs) or the word after `parameter`/`field` (`The specified parameter Features.ImdsSupport ...`).
fn field_from_message(message: &str) -> Option<String> {
    let is_quote = |c: char| matches!(c, '"' | '\u{201C}' | '\u{201D}');
    // Odd segments of a split on quotes are the quoted texts.
    let quoted = message.split(is_quote).skip(1).step_by(2).find_map(param_name);
    if quoted.is_some() {
        return quoted;
    }
    let mut words = message.split_whitespace();
    while let Some(word) = words.next() {
        if word.eq_ignore_ascii_case("parameter") || word.eq_ignore_ascii_case("field") {
            let next = words.clone().next().map(|w| w.trim_end_matches(['.', ',', ';', ':']));
            // Unquoted: demand a capital first letter so English words ("is", "description") are skipped.
            if let Some(name) = next.filter(|w| w.starts_with(|c: char| c.is_ascii_uppercase()))
                && let Some(found) = param_name(name)
            {
                return Some(found);
            }
        }
    }
    None
}

/// Accept `text` as a wire parameter name, normalising an `n` index placeholder to `N`.
fn param_name(text: &str) -> Option<String> {
    let text = text.trim();
    let valid = !text.is_empty()
        && text.len() <= 128
        && text.starts_with(|c: char| c.is_ascii_alphabetic())
        && text.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && !text.split('.').any(str::is_empty);
    valid.then(|| text.split('.').map(|seg| if seg == "n" { "N" } else { seg }).collect::<Vec<_>>().join("."))
}

/// `InvalidKeyPairName` -> `KeyPairName`; `SnapshotId` stays.
fn field_from_code_head(head: &str) -> Option<String> {
    let name = match head.strip_prefix("Invalid") {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_uppercase()) => rest,
        _ => head,
    };
    param_name(name)
}

/// Does a concrete name fit a pattern whose `N` segments stand for list indexes?
fn fits_pattern(pattern: &str, concrete: &str) -> bool {
    let mut p = pattern.split('.');
    let mut c = concrete.split('.');
    loop {
        match (p.next(), c.next()) {
            (None, None) => return true,
            (Some(ps), Some(cs)) => {
                let index = ps == "N" && (cs == "N" || cs.bytes().all(|b| b.is_ascii_digit()));
                if !(ps == cs || index) {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    /// Every code named in the seed pages and the spec files, typed in by hand from those tables.
    const DOCUMENTED: &[&str] = &[
        // errors.md §2 (POP gateway)
        "SignatureDoesNotMatch",
        "InvalidAccessKeySecret",
        "IncompleteSignature",
        "InvalidAccessKeyId.NotFound",
        "InvalidAccessKeyId.Inactive",
        "Forbidden.AccessKeyDisabled",
        "InvalidTimeStamp.Expired",
        "InvalidTimeStamp.Format",
        "IllegalTimestamp",
        "SignatureNonceUsed",
        "MissingParameter",
        "InvalidParameter",
        "InvalidAction.NotFound",
        "InvalidVersion",
        "UnsupportedHTTPMethod",
        "MissingSecurityToken",
        "InvalidSecurityToken.Expired",
        "InvalidSecurityToken.Malformed",
        "InvalidSecurityToken.MismatchWithAccessKey",
        "Forbidden.RAM",
        "NoPermission",
        "Forbidden",
        "Forbidden.RiskControl",
        "IdempotentParameterMismatch",
        "IdempotenceParamNotMatch",
        "DryRunOperation",
        "Throttling",
        "Throttling.User",
        "Throttling.Api",
        "ServiceUnavailable",
        "InternalError",
        // errors.md §3/§5
        "InvalidImageId.NotFound",
        "InvalidImageName.Duplicated",
        "InvalidImageName.Malformed",
        "InvalidDescription.Malformed",
        "QuotaExceed.Image",
        "ImageIsImporting",
        "ImageIsExporting",
        "ImageUsingByInstance",
        "ImageUseShared",
        "NoSetRoletoECSServiceAcount",
        "InvalidOSSBucket.NotFound",
        "InvalidOSSObject.NotFound",
        "InvalidImageFormat.Malformed",
        "InvalidImageSize",
        "InvalidTaskId.NotFound",
        "InvalidTaskId.IncorrectTaskStatus",
        "IncorrectImageStatus",
        "InvalidRegionId.NotFound",
        "InvalidImageFamily.Malformed",
        "InvalidTagKey.Malformed",
        "InvalidTagValue.Malformed",
        "Duplicate.TagKey",
        "InvalidTagCount",
        "InvalidTag.Mismatch",
        "QuotaExceed.Tags",
        "InvalidDataDiskSize",
        "InvalidOSSPrefix.Malformed",
        // apis.md: DescribeImages
        "InvalidImageOwnerAlias.ValueNotSupported",
        "InvalidParamter",
        "InvalidFilterKey.NotFound",
        "InvalidUsage",
        "InvalidInstanceType.ValueNotSupported",
        "InvalidOSType",
        "InvalidArchitecture",
        // apis.md + seed 003: ImportImage
        "MissingParameter.DiskDeviceMapping",
        "InvalidArchitecture.Malformed",
        "InvalidPlatform.Malformed",
        "InvalidOSType.Malformed",
        "InvalidFormat.Malformed",
        "InvalidOSSObject.Malformed",
        "InvalidOSSBucket.NotMatched",
        "InvalidRegion.NotSupport",
        "InvalidLicenseType.NotSupported",
        "InvalidLicenseType.BYOLOnly",
        "InvalidParameter.Malformed",
        "QuotaExceed.Snapshot",
        "ImportImageFailed",
        "UserNotInTheWhiteList",
        "Forbbiden",
        "RegionId.NotFound",
        // CreateImage
        "InvalidSnapshotId.NotFound",
        "InvalidInstanceId.NotFound",
        "IncorrectInstanceStatus",
        "InvalidSnapshotId.NotReady",
        "InvalidResourceGroup.NotFound",
        // DeleteImage / CopyImage / CancelCopyImage
        "OperationDenied.ImageCopying",
        "SourceRegion.NotFound",
        "DestinationRegion.NotFound",
        "IncorrectDestinationRegion",
        "RegionNotSupportCopy",
        "OperationDenied.SameRegionOnly",
        "SizeExceed.Image",
        "OperationDeined.EncryptedSnapshot",
        "ImageCreatedNotFromCopy",
        "CancelNotSupported",
        // ExportImage
        "ImageNotSupported",
        "InvalidImage.DiskAmountOrSize",
        "ConcurrentQuotaExceed.ExportImage",
        "WeeklyQuotaExceed.ExportImage",
        // CancelTask
        "InvalidTaskId.TaskActionNotSupport",
        "CancelTaskFailed",
        // Sharing
        "InvalidAccount.NotFound",
        "InvalidAccount.Forbbiden",
        "QuotaExceed.ShareImage",
        "QuotaExceed.ShareImageUser",
        "InvalidImageId.BidMismatch",
        // seed 002: ModifyImageAttribute
        "ImageQuotaFull.ImageFamily",
        "ImageFamilyQuotaFull",
        "InvalidBootMode.NotSupport",
        "InvalidParameter.FeaturesImdsSupport",
        "ImageStatus.NotAvailable",
        "ImageStatus.NotDeprecated",
        "OperationDeined.ImageUsingByInstance",
        "InvalidOperation.FeaturesImdsSupportNotMatch",
        "InvalidStatus.ImageIsCreating",
        "InvalidOperation.PublicImageUnsupported",
        // seed 000: E-HPC Instant
        "InvalidParams",
        "ImageAlreadyExists",
        "InDebt",
        "NotEnabled",
        "ImageInUse",
        "ImageNotFound",
        "EcsError",
        "AliyunError",
        "DbError",
        "NotAuthorized",
        // seed 001: ENS
        "InvalidParameter.%s",
        // oss-upload.md §2/§4, signing.md §3/§4
        "AccessDenied",
        "InvalidAccessKeyId",
        "RequestTimeTooSkewed",
        "NoSuchBucket",
        "NoSuchKey",
        "NoSuchUpload",
        "InvalidArgument",
        "InvalidDigest",
        "EntityTooSmall",
        "InvalidPart",
        "InvalidPartOrder",
        "MissingContentLength",
        "FileAlreadyExists",
        "RequestTimeout",
        "InvalidObjectName",
        "SecurityTokenExpired",
        "BadRequest",
        // seed 004: Apsara Stack route failure
        APSARA_ROUTE_FAILURE,
    ];

    fn is_cjk(c: char) -> bool {
        matches!(c,
            '\u{3000}'..='\u{303F}' | '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}'
            | '\u{F900}'..='\u{FAFF}' | '\u{FF00}'..='\u{FFEF}')
    }

    #[test]
    fn catalog_holds_exactly_the_documented_codes() {
        let documented: BTreeSet<&str> = DOCUMENTED.iter().copied().collect();
        assert_eq!(documented.len(), DOCUMENTED.len(), "test list has duplicates");
        let catalogued: BTreeSet<&str> = all().iter().map(|i| i.code).collect();
        let missing: Vec<_> = documented.difference(&catalogued).collect();
        let extra: Vec<_> = catalogued.difference(&documented).collect();
        assert!(missing.is_empty(), "missing from catalog: {missing:?}");
        assert!(extra.is_empty(), "undocumented entries: {extra:?}");
        for code in DOCUMENTED {
            assert_eq!(lookup(code).map(|i| i.code), Some(*code));
        }
    }

    #[test]
    fn no_duplicate_codes() {
        let mut seen = BTreeMap::new();
        for info in all() {
            *seen.entry(info.code).or_insert(0) += 1;
        }
        let dups: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
        assert!(dups.is_empty(), "duplicates: {dups:?}");
    }

    #[test]
    fn messages_are_bilingual_and_substantive() {
        for info in all() {
            assert!(info.en.len() >= 40, "{}: en too short", info.code);
            assert!(info.zh.chars().count() >= 10, "{}: zh too short", info.code);
            assert!(!info.en.chars().any(is_cjk), "{}: en contains CJK", info.code);
            assert!(info.zh.chars().any(is_cjk), "{}: zh lacks CJK", info.code);
            assert_ne!(info.en, info.code);
        }
    }

    #[test]
    fn fields_and_statuses_are_well_formed() {
        for info in all() {
            if let Some(field) = info.field {
                assert_eq!(param_name(field).as_deref(), Some(field), "{}", info.code);
            }
            for status in info.http_status {
                assert!((400..600).contains(status), "{}: {status}", info.code);
            }
        }
        assert_eq!(lookup("InvalidRegionId.NotFound").map(|i| i.http_status), Some(&[400, 404][..]));
        assert_eq!(lookup("NoPermission").map(|i| i.http_status), Some(&[403, 400][..]));
        assert_eq!(lookup("SignatureDoesNotMatch").map(|i| i.http_status), Some(&[400, 403][..]));
        assert_eq!(lookup("NotAuthorized").map(|i| i.http_status), Some(&[407][..]));
        assert_eq!(lookup("MissingContentLength").map(|i| i.http_status), Some(&[411][..]));
        assert_eq!(
            lookup("InvalidParameter.FeaturesImdsSupport").and_then(|i| i.field),
            Some("Features.ImdsSupport")
        );
        assert_eq!(lookup("ImageFamilyQuotaFull").and_then(|i| i.field), Some("ImageFamily"));
        assert_eq!(lookup("IdempotenceParamNotMatch").and_then(|i| i.field), Some("ClientToken"));
    }

    #[test]
    fn lookup_is_exact_and_case_sensitive() {
        assert!(lookup("Throttling").is_some());
        assert!(lookup("throttling").is_none());
        assert!(lookup("InvalidParameter ").is_none());
        assert!(lookup("").is_none());
    }

    #[test]
    fn retryable_set_is_as_documented() {
        let expected: BTreeMap<&str, Retry> = [
            ("InternalError", Retry::Backoff),
            ("ServiceUnavailable", Retry::Backoff),
            ("Throttling", Retry::Backoff),
            ("Throttling.User", Retry::Backoff),
            ("Throttling.Api", Retry::Backoff),
            ("BadRequest", Retry::Backoff),
            ("SignatureNonceUsed", Retry::NewNonce),
            ("InvalidTimeStamp.Expired", Retry::ResignFreshTime),
            ("RequestTimeTooSkewed", Retry::ResignFreshTime),
            ("InvalidSecurityToken.Expired", Retry::RefreshCredentials),
            ("InvalidSecurityToken.Malformed", Retry::RefreshCredentials),
            ("InvalidSecurityToken.MismatchWithAccessKey", Retry::RefreshCredentials),
            ("SecurityTokenExpired", Retry::RefreshCredentials),
        ]
        .into_iter()
        .collect();
        let actual: BTreeMap<&str, Retry> =
            all().iter().filter(|i| i.retry.is_retryable()).map(|i| (i.code, i.retry)).collect();
        assert_eq!(actual, expected);
        for code in
            ["SignatureDoesNotMatch", "InvalidParameter", "Forbidden.RAM", "DryRunOperation", "DbError"]
        {
            assert_eq!(lookup(code).map(|i| i.retry), Some(Retry::Never), "{code}");
        }
    }

    #[test]
    fn retry_is_retryable() {
        assert!(!Retry::Never.is_retryable());
        for r in [Retry::Backoff, Retry::NewNonce, Retry::ResignFreshTime, Retry::RefreshCredentials] {
            assert!(r.is_retryable());
        }
    }

    #[test]
    fn advice_uses_exact_entry() {
        let a = advice("ImageUseShared", 403, "whatever");
        assert_eq!(a.code, "ImageUseShared");
        assert_eq!(a.retry, Retry::Never);
        assert_eq!(a.field.as_deref(), Some("ImageId"));
        assert_eq!(a.en, lookup("ImageUseShared").map(|i| i.en).unwrap_or_default());
        assert_eq!(advice("Throttling", 400, "").retry, Retry::Backoff);
        assert_eq!(advice("SignatureNonceUsed", 400, "").retry, Retry::NewNonce);
        assert_eq!(advice("SignatureDoesNotMatch", 400, "").retry, Retry::Never);
    }

    #[test]
    fn advice_missing_parameter_field_from_code() {
        let a = advice("MissingParameter.RegionId", 400, "");
        assert_eq!(a.field.as_deref(), Some("RegionId"));
        assert_eq!(a.retry, Retry::Never);
        assert!(a.en.contains("RegionId") && a.zh.contains("RegionId"));
    }

    #[test]
    fn advice_missing_parameter_field_from_message() {
        let a = advice(
            "MissingParameter",
            400,
            "The input parameter \"DiskDeviceMapping.1.OSSBucket\" that is mandatory for processing this request is not supplied.",
        );
        assert_eq!(a.field.as_deref(), Some("DiskDeviceMapping.1.OSSBucket"));
        let a = advice(
            "MissingParameter",
            400,
            "The input parameter \"RegionId\" that is mandatory for processing this request is not supplied.",
        );
        assert_eq!(a.field.as_deref(), Some("RegionId"));
    }

    #[test]
    fn advice_field_from_other_message_shapes() {
        // Seed 003 mixes a curly opening quote with a straight closing one and writes the index as `n`.
        let a = advice(
            "InvalidImageSize",
            400,
            "The specified \u{201C}DiskDeviceMapping.n.DiskImageSize\" should be not less than system device size.",
        );
        assert_eq!(a.field.as_deref(), Some("DiskDeviceMapping.N.DiskImageSize"));
        // Concrete index refines the entry's pattern.
        let a = advice("InvalidOSSBucket.NotFound", 400, "bucket \"DiskDeviceMapping.2.OSSBucket\"");
        assert_eq!(a.field.as_deref(), Some("DiskDeviceMapping.2.OSSBucket"));
        // A name that does not fit the pattern is ignored.
        let a = advice("InvalidImageName.Malformed", 400, "The input parameter \"Foo\" is bad");
        assert_eq!(a.field.as_deref(), Some("ImageName"));
        // Unquoted names.
        assert_eq!(
            advice("InvalidVersion", 400, "Specified parameter Version is not valid.").field.as_deref(),
            Some("Version")
        );
        assert_eq!(
            advice("InvalidParams", 400, "The specified parameter Name is invalid.").field.as_deref(),
            Some("Name")
        );
        assert_eq!(advice("InvalidParams", 400, "The specified parameter %s is invalid.").field, None);
        assert_eq!(
            advice("InvalidDescription.Malformed", 403, "The specified parameter description is not valid.")
                .field
                .as_deref(),
            Some("Description")
        );
    }

    #[test]
    fn advice_families() {
        // ENS InvalidParameter.%s with the placeholder filled in.
        let a = advice(
            "InvalidParameter.ImageName",
            400,
            "The specified field ImageName invalid. Please check it again.",
        );
        assert_eq!((a.retry, a.field.as_deref()), (Retry::Never, Some("ImageName")));
        assert!(a.en.contains("ImageName") && a.zh.contains("ImageName"));
        let a = advice("InvalidParameter.ImageFormat", 400, "");
        assert_eq!(a.field.as_deref(), Some("ImageFormat"));

        let a = advice("Throttling.Resource", 400, "");
        assert_eq!((a.retry, a.field.clone()), (Retry::Backoff, None));
        let a = advice("InvalidSecurityToken.Revoked", 400, "");
        assert_eq!((a.retry, a.field.as_deref()), (Retry::RefreshCredentials, Some("SecurityToken")));
        assert_eq!(advice("Forbidden.NotOwner", 403, "").retry, Retry::Never);
        assert_eq!(advice("QuotaExceed.Something", 403, "").retry, Retry::Never);
        assert_eq!(advice("OperationDenied.Other", 403, "").retry, Retry::Never);

        let a = advice("InvalidZoneId.NotFound", 404, "");
        assert_eq!((a.retry, a.field.as_deref()), (Retry::Never, Some("ZoneId")));
        let a = advice("InvalidHostName.Malformed", 400, "");
        assert_eq!(a.field.as_deref(), Some("HostName"));
        let a = advice("KMSKeyId.NotFound", 404, "");
        assert_eq!(a.field.as_deref(), Some("KMSKeyId"));
        for a in [advice("InvalidZoneId.NotFound", 404, ""), advice("Throttling.X", 400, "")] {
            assert!(a.zh.chars().any(is_cjk) && !a.en.chars().any(is_cjk));
        }
    }

    #[test]
    fn advice_falls_back_on_status() {
        let a = advice("SomethingNew", 503, "");
        assert_eq!(a.retry, Retry::Backoff);
        assert!(a.en.contains("SomethingNew") && a.zh.contains("SomethingNew"));
        assert_eq!(advice("SomethingNew", 429, "").retry, Retry::Backoff);
        assert_eq!(advice("SomethingNew", 500, "").retry, Retry::Backoff);
        let a = advice("SomethingNew", 400, "Odd failure.");
        assert_eq!(a.retry, Retry::Never);
        assert!(a.en.contains("SomethingNew") && a.en.contains("Odd failure."));
        assert!(a.en.contains("400"));
        let a = advice("", 404, "");
        assert_eq!(a.retry, Retry::Never);
        assert!(!a.en.is_empty() && !a.zh.is_empty());
    }

    #[test]
    fn advice_maps_apsara_result_code() {
        let a = advice("-1", 200, "system error");
        assert_eq!(a.code, "-1");
        assert_eq!(a.retry, Retry::Never);
        assert!(a.en.contains("resultCode -1"));
        assert_eq!(advice(APSARA_ROUTE_FAILURE, 200, "").en, a.en);
        // Zero is success, not a failure code.
        assert!(!advice("0", 400, "").en.contains("Apsara"));
    }

    #[test]
    fn import_role_advice_names_role_and_policies() {
        let a = advice(
            "NoSetRoletoECSServiceAcount",
            403,
            "ECS service account Have no right to access your OSS.",
        );
        assert_eq!(a.retry, Retry::Never);
        assert_eq!(a.field.as_deref(), Some("RoleName"));
        for text in [&a.en, &a.zh] {
            assert!(text.contains(IMPORT_ROLE_NAME));
            assert!(text.contains(IMPORT_ROLE_SYSTEM_POLICY));
            assert!(text.contains("ecs.aliyuncs.com") && text.contains("sts:AssumeRole"));
            for action in ["oss:GetObject", "oss:GetBucketLocation", "oss:GetBucketInfo"] {
                assert!(text.contains(action), "{action}");
            }
        }
    }

    #[test]
    fn role_policies_are_valid_json() {
        let trust: serde_json::Value = serde_json::from_str(IMPORT_ROLE_TRUST_POLICY).unwrap();
        let stmt = &trust["Statement"][0];
        assert_eq!(stmt["Action"], "sts:AssumeRole");
        assert_eq!(stmt["Effect"], "Allow");
        assert_eq!(stmt["Principal"]["Service"][0], "ecs.aliyuncs.com");
        assert_eq!(trust["Version"], "1");

        let perm: serde_json::Value = serde_json::from_str(IMPORT_ROLE_PERMISSION_POLICY).unwrap();
        let stmt = &perm["Statement"][0];
        assert_eq!(
            stmt["Action"],
            serde_json::json!(["oss:GetObject", "oss:GetBucketLocation", "oss:GetBucketInfo"])
        );
        assert_eq!(stmt["Resource"], "*");
        assert_eq!(stmt["Effect"], "Allow");
        assert_eq!(IMPORT_ROLE_NAME, "AliyunECSImageImportDefaultRole");
    }

    #[test]
    fn pattern_matching() {
        assert!(fits_pattern("DiskDeviceMapping.N.OSSBucket", "DiskDeviceMapping.17.OSSBucket"));
        assert!(fits_pattern("DiskDeviceMapping.N.OSSBucket", "DiskDeviceMapping.N.OSSBucket"));
        assert!(!fits_pattern("DiskDeviceMapping.N.OSSBucket", "DiskDeviceMapping.1.OSSObject"));
        assert!(!fits_pattern("Tag.N.Key", "Tag.N"));
        assert!(fits_pattern("ImageName", "ImageName"));
    }
}
