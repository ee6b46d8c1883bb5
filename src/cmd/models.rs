//! `tokenpace models`: what the model cache holds, and fetching into it.

use crate::cli::{Format, ModelsArgs};
use crate::table::{Align, Markdown, Table, TableFormat, Terminal};
use crate::Status;
use std::io::Write;

use tokenpace_models::{cache_dir, cached_models};
use tokenpace_present::Lang;

/// Runs `tokenpace models`.
pub fn run(args: ModelsArgs, lang: Lang, out: &mut dyn Write) -> anyhow::Result<Status> {
    let cache = cache_dir(args.cache_dir.as_deref());
    if let Some(package) = &args.fetch {
        for f in crate::progress::fetch(package, &cache, lang)? {
            crate::progress::note(format_args!(
                "{}: {}",
                lang.pick("cached", "已缓存"),
                f.display()
            ));
        }
    }
    let models = cached_models(&cache);
    let text = match args.output.format {
        Format::Csv => return Err(tokenpace_present::ExportError::NoCsv.into()),
        Format::Json => {
            serde_json::to_string_pretty(&serde_json::json!({
                "cache_dir": cache,
                "models": models.iter().map(|m| serde_json::json!({
                    "package": m.package,
                    "path": m.path,
                    "info": m.info.as_ref().ok(),
                    "error": m.info.as_ref().err(),
                })).collect::<Vec<_>>(),
            }))? + "\n"
        }
        Format::Table | Format::Markdown => {
            let mut t = Table::new(&[
                (lang.pick("package", "包"), Align::Left),
                (lang.pick("file", "文件"), Align::Left),
                (lang.pick("architecture", "架构"), Align::Left),
                ("MB", Align::Right),
            ]);
            for m in &models {
                let file = m
                    .path
                    .file_name()
                    .map_or(String::new(), |f| f.to_string_lossy().into_owned());
                match &m.info {
                    Ok(info) => t.row(vec![
                        m.package.clone(),
                        file,
                        info.architecture.clone(),
                        format!("{:.1}", info.bytes as f64 / 1e6),
                    ]),
                    Err(e) => t.row(vec![
                        m.package.clone(),
                        file,
                        format!("unreadable: {e}"),
                        String::new(),
                    ]),
                }
            }
            let body = if args.output.format == Format::Markdown {
                Markdown.render(&t)
            } else {
                Terminal.render(&t)
            };
            let head = format!(
                "{}: {}\n\n",
                lang.pick("model cache", "模型缓存"),
                cache.display()
            );
            if models.is_empty() {
                head + lang.pick(
                    "no models cached yet: `tokenpace models --fetch` fetches the default one\n",
                    "尚无缓存的模型：`tokenpace models --fetch` 获取默认模型\n",
                )
            } else {
                head + &body
            }
        }
    };
    out.write_all(text.as_bytes())?;
    Ok(Status::Ok)
}
