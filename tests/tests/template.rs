//! template.yaml is valid for CloudFormation.

use std::path::PathBuf;
use std::process::Command;

#[test]
fn the_template_passes_cfn_lint() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let lint = root.join(".local/venv/bin/cfn-lint");
    assert!(lint.exists(), "cfn-lint is missing: run infra/install.sh");
    let out = Command::new(lint)
        .arg(root.join("template.yaml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cfn-lint found problems:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
