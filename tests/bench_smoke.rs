//! The benchmark command works end to end: a small run against the
//! server binary, with nothing lost. (Its figures are not judged here: the
//! benchmark is run by hand, see the README.)
#![cfg(feature = "bench")]

use std::process::Command;

#[test]
fn a_small_benchmark_loses_nothing() {
    let output = Command::new(env!("CARGO_BIN_EXE_giftlist-bench"))
        .args(["--sockets", "40", "--items", "15", "--rate", "50"])
        .args(["--server", env!("CARGO_BIN_EXE_giftlist")])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("sockets subscribed          40"),
        "{stdout}"
    );
    assert!(stdout.contains("item writes failed          0"), "{stdout}");
    assert!(
        stdout.contains("delivered                   600 event frames"),
        "{stdout}"
    );
    assert!(
        stdout.contains("lost 0   duplicated 0   out of order 0   sockets closed early 0"),
        "{stdout}"
    );
    assert!(
        stdout.contains("KiB per added idle subscribed socket"),
        "{stdout}"
    );
}
