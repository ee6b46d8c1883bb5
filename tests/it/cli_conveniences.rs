//! What people expect of a command-line tool: shell completions and a man
//! page generated from the flags, `NO_COLOR`, and `--quiet`.

use crate::common::sim_process::Sim;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_tokenpace");

fn tokenpace(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn stdout(out: Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn completions_cover_every_shell_and_the_flags() {
    let bash = stdout(tokenpace(&["completions", "bash"]));
    assert!(bash.contains("complete -F _tokenpace"), "{bash}");
    // Generated from the declaration: a bench flag and a subcommand appear.
    assert!(bash.contains("--start-at") && bash.contains("merge"));
    // bash accepts it.
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("tokenpace.bash");
    std::fs::write(&script, &bash).unwrap();
    let check = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let zsh = stdout(tokenpace(&["completions", "zsh"]));
    assert!(zsh.starts_with("#compdef tokenpace") && zsh.contains("--start-at"));
    let fish = stdout(tokenpace(&["completions", "fish"]));
    assert!(fish.contains("complete -c tokenpace") && fish.contains("start-at"));
    let bad = tokenpace(&["completions", "powershell-ise"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn the_man_page_is_roff_for_the_tool_and_each_command() {
    let page = stdout(tokenpace(&["man"]));
    assert!(
        page.starts_with(".ie") || page.contains(".TH TOKENPACE"),
        "{page}"
    );
    assert!(page.contains(".TH TOKENPACE") && page.contains("merge"));
    let bench = stdout(tokenpace(&["man", "bench"]));
    assert!(bench.contains(".TH TOKENPACE-BENCH"), "{bench}");
    assert!(bench.contains("start\\-at"), "{bench}");
    let bad = tokenpace(&["man", "nope"]);
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("no command 'nope'") && err.contains("bench"),
        "{err}"
    );
}

#[test]
fn no_color_turns_colour_off_even_when_forced() {
    let run = |no_color: bool| {
        let mut cmd = Command::new(BIN);
        cmd.args(["bench", "--no-such-flag"])
            .env("CLICOLOR_FORCE", "1")
            .env_remove("NO_COLOR");
        if no_color {
            cmd.env("NO_COLOR", "1");
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        String::from_utf8(out.stderr).unwrap()
    };
    // Forced colour shows escapes (so the check below can fail) ...
    assert!(run(false).contains("\u{1b}["));
    // ... and NO_COLOR removes every one.
    let plain = run(true);
    assert!(
        !plain.contains('\u{1b}') && plain.contains("--no-such-flag"),
        "{plain:?}"
    );
}

#[test]
fn quiet_prints_the_result_and_nothing_about_progress() {
    let sim = Sim::start(&["--ttft-ms", "1", "--decode", "2000"]);
    let dir = tempfile::tempdir().unwrap();
    let run = |quiet: bool| {
        let html = dir.path().join(format!("r{quiet}.html"));
        let mut args = vec!["bench", &sim.url, "--model", "sim", "--requests", "3"];
        args.extend(["--max-tokens", "2", "--lang", "en", "--html"]);
        args.push(html.to_str().unwrap());
        if quiet {
            args.push("--quiet");
        }
        let out = tokenpace(&args);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        (stdout(out), err)
    };
    // Without it, a line says where the report went ...
    let (table, err) = run(false);
    assert!(err.contains("report written to"), "{err}");
    assert!(table.contains("3 sent, 3 ok"), "{table}");
    // ... with it, the result alone.
    let (table, err) = run(true);
    assert!(err.is_empty(), "{err}");
    assert!(table.contains("3 sent, 3 ok"), "{table}");
    // -q is the short form, before or after the command.
    let out = tokenpace(&["-q", "completions", "bash"]);
    assert!(out.status.success() && out.stderr.is_empty());
}
