//! `tokenpace plan bounds`: the roofline estimate of a model on a device,
//! graded on tokenpace's built-in UX tiers. Also the options `plan remedies` and `plan
//! calibrate` share with it: which model, which device, which efficiency.

use crate::cli::{BoundsArgs, DeploymentArgs, Format, WorkloadArgs};
use crate::table::{Align, Markdown, Table, TableFormat, Terminal};
use crate::{input, Status};
use anyhow::{bail, Context};
use std::io::Write;
use std::path::{Path, PathBuf};
use tokenpace_core::metric::Metric;
use tokenpace_plan::catalog::Catalog;
use tokenpace_plan::efficiency::Efficiency;
use tokenpace_plan::hardware::Hardware;
use tokenpace_plan::model::Model;
use tokenpace_plan::roofline::{estimate, Deployment, Estimate, Resource, Workload};
use tokenpace_present::number;
use tokenpace_present::Lang;

impl WorkloadArgs {
    fn workload(&self) -> Workload {
        Workload {
            prompt_tokens: self.prompt_tokens,
            output_tokens: self.output_tokens,
            concurrency: self.concurrency,
            chars_per_token: self.chars_per_token,
            rtt_s: self.rtt,
        }
    }
}

/// The model, device and efficiency resolved from the flags.
pub struct Resolved {
    /// The catalog, with user files added.
    pub catalog: Catalog,
    /// The model.
    pub model: Model,
    /// The device id.
    pub hardware: String,
    /// The efficiency.
    pub efficiency: Efficiency,
}

impl Resolved {
    /// The device.
    pub fn hardware(&self) -> &Hardware {
        // `resolve` checked the id.
        self.catalog
            .hardware
            .iter()
            .find(|h| h.id == self.hardware)
            .expect("resolved hardware is in the catalog")
    }
}

/// The catalog with the user's files added.
pub fn catalog(files: &[PathBuf]) -> anyhow::Result<Catalog> {
    let mut c = Catalog::builtin();
    for f in files {
        let text = std::fs::read_to_string(f)
            .with_context(|| format!("could not read catalog '{}'", f.display()))?;
        c.add_toml(&text).with_context(|| {
            format!(
                "catalog '{}' is not valid (see docs/plan.md, \"Catalogs\", for the format)",
                f.display()
            )
        })?;
    }
    Ok(c)
}

fn model_from_file(path: &Path) -> anyhow::Result<Model> {
    let id = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    let mut file = std::fs::File::open(path)
        .with_context(|| format!("could not open model file '{}'", path.display()))?;
    let mut magic = [0u8; 4];
    use std::io::{Read, Seek};
    let is_gguf = file.read_exact(&mut magic).is_ok() && &magic == b"GGUF";
    file.rewind()
        .with_context(|| format!("could not read '{}'", path.display()))?;
    if is_gguf {
        let kv = tokenpace_plan::gguf::read_metadata(std::io::BufReader::new(file))
            .with_context(|| format!("'{}'", path.display()))?;
        return tokenpace_plan::gguf::model_from_metadata(&id, &kv)
            .with_context(|| format!("'{}'", path.display()));
    }
    let mut text = String::new();
    file.read_to_string(&mut text).with_context(|| {
        format!(
            "'{}' is neither a GGUF file nor a UTF-8 config.json",
            path.display()
        )
    })?;
    let id = if id == "config" {
        path.parent()
            .and_then(|p| p.file_name())
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or(id)
    } else {
        id
    };
    tokenpace_plan::hf_config::model_from_config_json(&id, &text)
        .with_context(|| format!("'{}'", path.display()))
}

impl DeploymentArgs {
    /// Whether a model (catalog id or file) was given.
    pub fn has_model(&self) -> bool {
        self.model.is_some() || self.model_file.is_some()
    }

    /// The efficiency: the file's factors, overridden by the flags.
    pub fn efficiency(&self) -> anyhow::Result<Efficiency> {
        let mut e = match &self.efficiency {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| {
                    format!("could not read efficiency file '{}'", path.display())
                })?;
                Efficiency::from_toml(&text).with_context(|| {
                    format!(
                        "efficiency file '{}' is not valid (it needs `compute` and `bandwidth` fractions; `plan calibrate --save` writes one)",
                        path.display()
                    )
                })?
            }
            None => Efficiency::DEFAULT,
        };
        if let Some(v) = self.compute_efficiency {
            e.compute = v;
        }
        if let Some(v) = self.bandwidth_efficiency {
            e.bandwidth = v;
        }
        if let Some(v) = self.memory_usable {
            e.memory_usable = v;
        }
        Ok(e)
    }

    /// Resolves the model, device and efficiency; both model and device are
    /// required.
    pub fn resolve(&self, command: &str) -> anyhow::Result<Resolved> {
        let catalog = catalog(&self.catalog)?;
        let model = match (&self.model, &self.model_file) {
            (Some(name), _) => catalog.model(name)?.clone(),
            (None, Some(path)) => model_from_file(path)?,
            (None, None) => bail!(
                "{command} needs a model: give --model NAME (tokenpace plan bounds --list shows the catalog) or --model-file config.json"
            ),
        };
        let Some(hw) = &self.hardware else {
            bail!("{command} needs a device: give --hardware NAME (tokenpace plan bounds --list shows the catalog)");
        };
        let hardware = catalog.hardware(hw)?.id.clone();
        Ok(Resolved {
            catalog,
            model,
            hardware,
            efficiency: self.efficiency()?,
        })
    }
}

/// Runs `tokenpace plan bounds`.
pub fn run(args: BoundsArgs, lang: Lang, out: &mut dyn Write) -> anyhow::Result<Status> {
    if args.list {
        let c = catalog(&args.deployment.catalog)?;
        let text = match args.output.format {
            Format::Csv => return Err(tokenpace_present::ExportError::NoCsv.into()),
            Format::Json => {
                serde_json::to_string_pretty(&serde_json::json!({
                    "hardware": c.hardware,
                    "models": c.models,
                }))? + "\n"
            }
            Format::Table => list(&c, lang, &Terminal, false),
            Format::Markdown => list(&c, lang, &Markdown, true),
        };
        out.write_all(text.as_bytes())?;
        return Ok(Status::Ok);
    }
    let profile = input::profile(args.profile.file.as_deref())?;
    let r = args.deployment.resolve("plan bounds")?;
    let d = Deployment {
        model: &r.model,
        hardware: r.hardware(),
        quant: args.deployment.quant.into(),
        devices: args.deployment.gpus,
    };
    let e = estimate(&d, &args.workload.workload(), &r.efficiency, &profile)?;
    let text = match args.output.format {
        Format::Csv => return Err(tokenpace_present::ExportError::NoCsv.into()),
        Format::Json => serde_json::to_string_pretty(&e)? + "\n",
        Format::Table => render(&e, &d, lang, &Terminal, false),
        Format::Markdown => render(&e, &d, lang, &Markdown, true),
    };
    out.write_all(text.as_bytes())?;
    Ok(Status::Ok)
}

/// A resource's label.
pub fn resource(lang: Lang, r: Resource) -> &'static str {
    match r {
        Resource::Compute => lang.pick("compute", "算力"),
        Resource::MemoryBandwidth => lang.pick("memory bandwidth", "显存带宽"),
        Resource::MemoryCapacity => lang.pick("memory capacity", "显存容量"),
    }
}

/// Bytes with a decimal unit (kB, MB, GB).
pub fn bytes(b: f64) -> String {
    if b >= 1e9 {
        format!("{:.2} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else {
        format!("{:.1} kB", b / 1e3)
    }
}

fn flops(f: f64) -> String {
    if f >= 1e12 {
        format!("{:.2} TFLOP", f / 1e12)
    } else {
        format!("{:.1} GFLOP", f / 1e9)
    }
}

fn heading(out: &mut String, text: &str, markdown: bool) {
    out.push_str(&if markdown {
        format!("\n**{text}**\n\n")
    } else {
        format!("\n{text}\n")
    });
}

/// One line naming the deployment.
pub fn title(e: &Estimate, d: &Deployment, lang: Lang) -> String {
    match lang {
        Lang::En => format!(
            "{} ({}) on {} × {} ({}), {} weights",
            e.model, d.model.name, e.devices, e.hardware, d.hardware.name, e.quant
        ),
        Lang::Zh => format!(
            "{}（{}）运行在 {} × {}（{}）上，{} 权重",
            e.model, d.model.name, e.devices, e.hardware, d.hardware.name, e.quant
        ),
    }
}

fn render(
    e: &Estimate,
    d: &Deployment,
    lang: Lang,
    format: &dyn TableFormat,
    markdown: bool,
) -> String {
    let w = &e.workload;
    let bullet = if markdown { "- " } else { "  " };
    let mut out = title(e, d, lang);
    out.push('\n');
    out.push_str(&match lang {
        Lang::En => format!(
            "{bullet}workload: prompt {:.0} tok · answer {:.0} tok · {} concurrent · {:.2} chars/token · round trip {:.0} ms\n",
            w.prompt_tokens, w.output_tokens, w.concurrency, w.chars_per_token, w.rtt_s * 1000.0
        ),
        Lang::Zh => format!(
            "{bullet}负载：提示 {:.0} tok · 回答 {:.0} tok · 并发 {} · {:.2} 字/token · 网络往返 {:.0} ms\n",
            w.prompt_tokens, w.output_tokens, w.concurrency, w.chars_per_token, w.rtt_s * 1000.0
        ),
    });
    let m = &e.memory;
    heading(&mut out, lang.pick("Memory", "显存"), markdown);
    out.push_str(&match lang {
        Lang::En => format!(
            "{bullet}weights {} · KV cache {}/token, {} per {:.0}-token context · usable {} of {} ({:.0} %)\n{bullet}{:.0} contexts fit; serving {} at once{}\n",
            bytes(m.weight_bytes), bytes(m.kv_bytes_per_token), bytes(m.context_bytes),
            w.prompt_tokens + w.output_tokens, bytes(m.usable_bytes), bytes(m.total_bytes),
            e.efficiency.memory_usable * 100.0, m.contexts_fit, e.concurrency,
            if m.concurrency_capped { format!(" (asked {}: capped by memory capacity)", w.concurrency) } else { String::new() }
        ),
        Lang::Zh => format!(
            "{bullet}权重 {} · KV 缓存每 token {}，每个 {:.0} token 的上下文 {} · 可用 {} / {}（{:.0} %）\n{bullet}可容纳 {:.0} 个上下文；同时服务 {} 个{}\n",
            bytes(m.weight_bytes), bytes(m.kv_bytes_per_token), w.prompt_tokens + w.output_tokens,
            bytes(m.context_bytes), bytes(m.usable_bytes), bytes(m.total_bytes),
            e.efficiency.memory_usable * 100.0, m.contexts_fit, e.concurrency,
            if m.concurrency_capped { format!("（要求 {}：受显存容量限制）", w.concurrency) } else { String::new() }
        ),
    });

    heading(
        &mut out,
        &match lang {
            Lang::En => format!(
                "Bounds (peak → expected at {:.0} % of peak compute, {:.0} % of peak bandwidth)",
                e.efficiency.compute * 100.0,
                e.efficiency.bandwidth * 100.0
            ),
            Lang::Zh => format!(
                "理论上限（峰值 → 按峰值算力 {:.0} %、峰值带宽 {:.0} % 估计）",
                e.efficiency.compute * 100.0,
                e.efficiency.bandwidth * 100.0
            ),
        },
        markdown,
    );
    let mut t = Table::new(&[
        (lang.pick("phase", "阶段"), Align::Left),
        (lang.pick("work", "计算量"), Align::Right),
        (lang.pick("memory traffic", "访存量"), Align::Right),
        (lang.pick("bound", "上限"), Align::Right),
        (lang.pick("expected", "预计"), Align::Right),
        (lang.pick("binds on", "瓶颈"), Align::Left),
    ]);
    t.row(vec![
        lang.metric(Metric::PrefillTokS).into(),
        flops(e.prefill.flops),
        bytes(e.prefill.bytes),
        number::with_unit(Metric::PrefillTokS, e.prefill_bound_tok_s),
        number::with_unit(Metric::PrefillTokS, e.prefill_tok_s),
        resource(lang, e.prefill.binding).into(),
    ]);
    t.row(vec![
        match lang {
            Lang::En => format!("decode (batch {})", e.concurrency),
            Lang::Zh => format!("解码速度（批大小 {}）", e.concurrency),
        },
        flops(e.decode.flops),
        bytes(e.decode.bytes),
        number::with_unit(Metric::DecodeTokS, e.decode_bound_tok_s),
        number::with_unit(Metric::DecodeTokS, e.decode_tok_s),
        resource(lang, e.decode.binding).into(),
    ]);
    t.row(vec![
        lang.pick("concurrency", "并发").into(),
        "-".into(),
        "-".into(),
        format!("{:.0}", m.contexts_fit),
        format!("{}", e.concurrency),
        if m.concurrency_capped {
            resource(lang, Resource::MemoryCapacity).into()
        } else {
            "-".into()
        },
    ]);
    out.push_str(&format.render(&t));
    if markdown {
        out.push('\n');
    }
    out.push_str(&match lang {
        Lang::En => format!(
            "{bullet}all streams together: {}\n",
            number::with_unit(Metric::DecodeTokS, e.aggregate_decode_tok_s)
        ),
        Lang::Zh => format!(
            "{bullet}所有并发流合计：{}\n",
            number::with_unit(Metric::DecodeTokS, e.aggregate_decode_tok_s)
        ),
    });

    heading(
        &mut out,
        lang.pick("Expected experience", "预计体验"),
        markdown,
    );
    out.push_str(&super::grade::render_body(
        &e.grade,
        &[],
        lang,
        format,
        markdown,
    ));
    out
}

fn list(c: &Catalog, lang: Lang, format: &dyn TableFormat, markdown: bool) -> String {
    let mut out = String::new();
    heading(&mut out, lang.pick("Hardware", "硬件"), markdown);
    let mut t = Table::new(&[
        ("id", Align::Left),
        (lang.pick("FP16 TFLOPS", "FP16 TFLOPS"), Align::Right),
        (lang.pick("INT8 TOPS", "INT8 TOPS"), Align::Right),
        (lang.pick("bandwidth", "带宽"), Align::Right),
        (lang.pick("memory", "显存"), Align::Right),
        (lang.pick("name", "名称"), Align::Left),
    ]);
    for h in &c.hardware {
        t.row(vec![
            h.id.clone(),
            format!("{}", h.fp16_tflops),
            h.int8_tops.map_or("-".into(), |v| format!("{v}")),
            format!("{} GB/s", h.memory_bandwidth_gb_s),
            format!("{} GB", h.memory_gb),
            h.name.clone(),
        ]);
    }
    out.push_str(&format.render(&t));
    heading(&mut out, lang.pick("Models", "模型"), markdown);
    let mut t = Table::new(&[
        ("id", Align::Left),
        (lang.pick("params", "参数"), Align::Right),
        (lang.pick("active", "激活"), Align::Right),
        (lang.pick("layers", "层数"), Align::Right),
        (lang.pick("KV heads", "KV 头"), Align::Right),
        (lang.pick("KV/token", "每 token KV"), Align::Right),
        (lang.pick("name", "名称"), Align::Left),
    ]);
    for m in &c.models {
        t.row(vec![
            m.id.clone(),
            format!("{} B", m.params_b),
            m.active_params_b.map_or("-".into(), |a| format!("{a} B")),
            m.layers.to_string(),
            m.kv_heads.to_string(),
            bytes(m.kv_bytes_per_token()),
            m.name.clone(),
        ]);
    }
    out.push_str(&format.render(&t));
    out.push_str(&format!(
        "\n{}\n",
        lang.pick(
            "Sources for every figure: crates/plan/data/*.toml (`--format json` prints them).",
            "每个数字的来源见 crates/plan/data/*.toml（`--format json` 会输出）。"
        )
    ));
    out
}
