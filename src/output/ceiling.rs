//! The client's ceiling in words: "the client, not the server, limited
//! this run: …", each limit crossed with its figure and its fix.

use tokenpace_core::ceiling::{Ceiling, ClientLimit};
use tokenpace_present::Lang;

/// The note of a run the client limited (`label` names the level in a
/// sweep); `None` when the client kept up.
pub fn client_limited(ceiling: &Ceiling, label: Option<&str>, lang: Lang) -> Option<String> {
    if !ceiling.limited() {
        return None;
    }
    let why: Vec<String> = ceiling.limits.iter().map(|l| limit(l, lang)).collect();
    let at = label.map_or(String::new(), |l| format!(" ({l})"));
    Some(match lang {
        Lang::En => format!(
            "NOT VALID{at}: the client, not the server, limited this run: {}; not graded A",
            why.join("; ")
        ),
        Lang::Zh => format!(
            "无效{at}：限制本次运行的是客户端而不是服务器：{}；不评为 A",
            why.join("；")
        ),
    })
}

/// One limit crossed: its figure, then the fix.
pub fn limit(l: &ClientLimit, lang: Lang) -> String {
    match (l, lang) {
        (ClientLimit::ScheduleLag { p99_ms }, Lang::En) => format!(
            "requests were sent {p99_ms:.1} ms late (schedule lag p99, limit 1 ms): lower --rate, or split the load over more client machines (--shard)"
        ),
        (ClientLimit::ScheduleLag { p99_ms }, Lang::Zh) => format!(
            "请求发送晚了 {p99_ms:.1} ms（调度滞后 p99，上限 1 ms）：降低 --rate，或把负载分到更多客户端机器（--shard）"
        ),
        (ClientLimit::InFlight { median, asked }, Lang::En) => format!(
            "{median:.0} requests in flight (median) of the {asked} asked: fewer streams, or more client machines (--shard)"
        ),
        (ClientLimit::InFlight { median, asked }, Lang::Zh) => format!(
            "在途请求中位数 {median:.0}，要求 {asked}：减少并发，或用更多客户端机器（--shard）"
        ),
        (ClientLimit::Cpu { percent, workers }, Lang::En) => format!(
            "the client used {percent:.0} % of its {workers} load threads' CPU (limit 90 %): fewer streams, or more client machines (--shard)"
        ),
        (ClientLimit::Cpu { percent, workers }, Lang::Zh) => format!(
            "客户端用掉了 {workers} 个负载线程 {percent:.0} % 的 CPU（上限 90 %）：减少并发，或用更多客户端机器（--shard）"
        ),
        (ClientLimit::Descriptors { requests, message }, Lang::En) => format!(
            "{requests} connections failed on this machine ({message}): raise `ulimit -n`, fewer streams, start them over --ramp-up, or more client machines (--shard)"
        ),
        (ClientLimit::Descriptors { requests, message }, Lang::Zh) => format!(
            "本机有 {requests} 个连接失败（{message}）：调高 `ulimit -n`、减少并发、用 --ramp-up 分批建立，或用更多客户端机器（--shard）"
        ),
    }
}
