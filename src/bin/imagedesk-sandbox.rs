//! `imagedesk-sandbox`: the local emulator of the image APIs and OSS, standalone.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use imagedesk::Credential;
use imagedesk::sandbox::{DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, Sandbox, SandboxConfig, StsGrant};

const USAGE: &str = "\
usage: imagedesk-sandbox [options]

  --port P                  port on 127.0.0.1 (default 8787; 0 = any free port)
  --data-dir D              where state and objects live (default ~/.local/share/imagedesk/sandbox)
  --access-key ID:SECRET    an accepted AccessKey pair (repeatable; default: the demo pair)
  --sts-token ID:SECRET:TOKEN[:EXPIRES]
                            accepted STS credentials; EXPIRES is RFC 3339 (repeatable)
  --import-role authorized|missing
                            whether ECS may read OSS for ImportImage (default authorized)
  --time-scale X            simulated time runs X times faster (0.001..1000000, default 1)
  --no-seed                 do not create the demo data set in an empty data dir
  --extra-images N          add N generated images (cn-hangzhou) to a new demo data set
  --throttle-rate R         fraction of requests answered Throttling (0..1)
  --unavailable-rate R      fraction answered ServiceUnavailable (0..1)
  --drop-rate R             fraction whose connection is cut before handling (0..1)
  --lose-answer-rate R      fraction handled, then the answer is cut (0..1)
  --latency-ms MS           added latency per request
  --max-skew-secs S         accepted clock skew (default 900)
  --clock-offset-secs S     the server's clock runs S seconds ahead (negative: behind)
";

fn parse_args(args: &[String]) -> Result<SandboxConfig, String> {
    let mut config = SandboxConfig::new(imagedesk::sandbox::default_data_dir());
    config.port = 8787;
    let mut keys = Vec::new();
    let mut iter = args.iter();
    while let Some(flag) = iter.next() {
        let mut value = |name: &str| iter.next().cloned().ok_or_else(|| format!("{name} needs a value"));
        let rate = |text: String, name: &str| -> Result<f64, String> {
            match text.parse::<f64>() {
                Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
                _ => Err(format!("{name} must be a number from 0 to 1, got {text:?}")),
            }
        };
        match flag.as_str() {
            "--port" => {
                config.port = value("--port")?.parse().map_err(|_| "--port must be 0..65535".to_owned())?
            }
            "--data-dir" => config.data_dir = PathBuf::from(value("--data-dir")?),
            "--access-key" => {
                let text = value("--access-key")?;
                let (id, secret) = text
                    .split_once(':')
                    .filter(|(id, secret)| !id.is_empty() && !secret.is_empty())
                    .ok_or_else(|| format!("--access-key must be ID:SECRET, got {text:?}"))?;
                keys.push(Credential::new(id, secret));
            }
            "--sts-token" => {
                let text = value("--sts-token")?;
                let mut parts = text.splitn(4, ':');
                let (Some(id), Some(secret), Some(token)) = (parts.next(), parts.next(), parts.next()) else {
                    return Err(format!("--sts-token must be ID:SECRET:TOKEN[:EXPIRES], got {text:?}"));
                };
                let expires_at = match parts.next() {
                    Some(when) => Some(
                        DateTime::parse_from_rfc3339(when)
                            .map_err(|e| format!("--sts-token expiry {when:?} is not RFC 3339: {e}"))?
                            .with_timezone(&Utc),
                    ),
                    None => None,
                };
                config.sts_tokens.push(StsGrant {
                    credential: Credential::new(id, secret).with_security_token(token),
                    expires_at,
                });
            }
            "--import-role" => match value("--import-role")?.as_str() {
                "authorized" => config.import_role_authorized = true,
                "missing" => config.import_role_authorized = false,
                other => return Err(format!("--import-role must be authorized or missing, got {other:?}")),
            },
            "--time-scale" => {
                let text = value("--time-scale")?;
                config.time_scale = match text.parse::<f64>() {
                    Ok(x) if (0.001..=1_000_000.0).contains(&x) => x,
                    _ => {
                        return Err(format!(
                            "--time-scale must be a number from 0.001 to 1000000, got {text:?}"
                        ));
                    }
                };
            }
            "--no-seed" => config.seed_demo = false,
            "--extra-images" => {
                let text = value(flag)?;
                config.extra_images = match text.parse::<usize>() {
                    Ok(n) if n <= 1_000_000 => n,
                    _ => return Err(format!("--extra-images must be 0..1000000, got {text:?}")),
                };
            }
            "--throttle-rate" => config.faults.throttle_rate = rate(value(flag)?, flag)?,
            "--unavailable-rate" => config.faults.unavailable_rate = rate(value(flag)?, flag)?,
            "--drop-rate" => config.faults.drop_rate = rate(value(flag)?, flag)?,
            "--lose-answer-rate" => config.faults.lose_answer_rate = rate(value(flag)?, flag)?,
            "--clock-offset-secs" => {
                let text = value(flag)?;
                config.clock_offset_secs = match text.parse::<i64>() {
                    Ok(secs) if secs.abs() <= 31_536_000 => secs,
                    _ => {
                        return Err(format!(
                            "--clock-offset-secs must be within a year (±31536000), got {text:?}"
                        ));
                    }
                };
            }
            "--latency-ms" => {
                config.faults.latency_ms =
                    value(flag)?.parse().map_err(|_| "--latency-ms must be an integer".to_owned())?
            }
            "--max-skew-secs" => {
                let text = value(flag)?;
                config.max_skew_secs = match text.parse::<i64>() {
                    Ok(secs) if (0..=31_536_000).contains(&secs) => secs,
                    _ => return Err(format!("--max-skew-secs must be 0..31536000 (a year), got {text:?}")),
                };
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    if !keys.is_empty() {
        config.access_keys = keys;
    }
    Ok(config)
}

fn main() -> ExitCode {
    tracing_subscriber::fmt().with_target(false).init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match parse_args(&args) {
        Ok(config) => config,
        Err(message) if message.is_empty() => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("imagedesk-sandbox: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime =
        match tokio::runtime::Builder::new_multi_thread().thread_name("sandbox").enable_all().build() {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("imagedesk-sandbox: cannot start the runtime: {e}");
                return ExitCode::FAILURE;
            }
        };
    let uses_demo_key = config.access_keys.iter().any(|k| k.access_key_id == DEMO_ACCESS_KEY_ID);
    let data_dir = config.data_dir.clone();
    runtime.block_on(async move {
        let sandbox = match Sandbox::start(config).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("imagedesk-sandbox: {e}");
                return ExitCode::FAILURE;
            }
        };
        println!("imagedesk-sandbox listening on {}", sandbox.url());
        println!("  data dir: {}", data_dir.display());
        if uses_demo_key {
            println!("  demo AccessKey: {DEMO_ACCESS_KEY_ID}:{DEMO_ACCESS_KEY_SECRET}");
        }
        println!(
            "  one endpoint for ECS, ENS, E-HPC Instant, Apsara styles and OSS; admin: {}/__sandbox/faults",
            sandbox.url()
        );
        if let Err(e) = tokio::signal::ctrl_c().await {
            eprintln!("imagedesk-sandbox: cannot wait for Ctrl-C: {e}");
        }
        println!("stopping");
        sandbox.shutdown().await;
        ExitCode::SUCCESS
    })
}
