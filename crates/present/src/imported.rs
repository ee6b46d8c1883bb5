//! An imported run's origin and what its format does not record, in
//! words: the same lines in the terminal, Markdown and the HTML report.

use crate::Lang;
use tokenpace_core::imported::{Imported, Missing};

/// "imported from vllm bench serve (FILE)".
pub fn source(imported: &Imported, lang: Lang) -> String {
    let version = imported
        .tool_version
        .as_deref()
        .map_or(String::new(), |v| format!(" {v}"));
    match lang {
        Lang::En => format!(
            "imported from {}{version} ({}): its requests as that tool timed them",
            imported.format.tool(),
            imported.file
        ),
        Lang::Zh => format!(
            "导入自 {}{version}（{}）：请求计时均取自该工具",
            imported.format.tool(),
            imported.file
        ),
    }
}

/// What `missing` leaves out, as a sentence.
pub fn missing(missing: Missing, lang: Lang) -> String {
    let (en, zh) = match missing {
        Missing::ChunkTimes => (
            "the file times only the first and last token: stalls, reading speed and time to first visible text are not measured, and inter-token latency is the mean gap of each request",
            "文件只记录首个与最后一个 token 的时间：卡顿、阅读速度与首个可见文字时间无法测得，字间延迟为每个请求的平均间隔",
        ),
        Missing::ChunkChars => (
            "the file times each chunk but keeps not its text: every chunk counts as visible, and characters come from the whole answer",
            "文件记录每个分块的时间但不保留其文本：每个分块都算作可见，字符数取自整段回答",
        ),
        Missing::AnswerText => (
            "the file keeps no answer text: characters, characters per token, reading speed, stalls and time to first visible character are absent",
            "文件不保留回答文本：字符数、每 token 字符数、阅读速度、卡顿与首个可见字符时间缺失",
        ),
        Missing::SendSchedule => (
            "the file says when each request was sent, not when it was meant to be: schedule lag reads 0",
            "文件只记录每个请求的发送时间，而非计划时间：调度延迟记为 0",
        ),
        Missing::ErrorKinds => (
            "failed requests are counted with the tool's message, not tokenpace's kind of error: they show as server errors",
            "失败的请求只有该工具的消息，没有 tokenpace 的错误分类：显示为服务器错误",
        ),
    };
    lang.pick(en, zh).into()
}

/// The source line, then one line per thing the format lacks.
pub fn lines(imported: &Imported, lang: Lang) -> Vec<String> {
    std::iter::once(source(imported, lang))
        .chain(imported.missing.iter().map(|m| missing(*m, lang)))
        .collect()
}
