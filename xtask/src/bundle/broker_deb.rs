//! The careid broker's `.deb`, `careid-broker_VERSION_ARCH.deb`, built with `dpkg-deb --build`
//! from a staged tree. The Tauri bundler makes the app's package only, and the broker is a server
//! package with no desktop parts, so it is a package of its own:
//!
//! - `/usr/bin/careid-broker`, the release build;
//! - `/usr/lib/systemd/system/careid-broker.service` (`packaging/careid-broker.service`), not
//!   enabled: the broker needs its configuration first;
//! - `/usr/lib/sysusers.d/careid-broker.conf` (`packaging/careid-broker.sysusers`), applied on
//!   install when `systemd-sysusers` is there, so the service's user exists.
//!
//! `Depends` is computed from the binary: the package of each shared library it loads (`ldd`,
//! then `dpkg -S`), with libc6 at least at the newest glibc symbol version the binary asks for.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{ensure, Context};

use crate::shell;

/// The package's name, its program's name and its service's name.
pub const PACKAGE: &str = "careid-broker";

/// Where the package installs the systemd unit (the same folder as `/lib/systemd/system` on
/// Debian, whose `/lib` is a link to `/usr/lib`).
pub const INSTALLED_UNIT: &str = "usr/lib/systemd/system/careid-broker.service";

/// Where the package installs the system user's sysusers file.
pub const INSTALLED_SYSUSERS: &str = "usr/lib/sysusers.d/careid-broker.conf";

/// The maintainer the app's package names too (`bundle.publisher` in `src-tauri/tauri.conf.json`).
const MAINTAINER: &str = "careid";

const DESCRIPTION: &str = "careid broker: holds the CIS2 client credential for careid
 The service an organisation runs so that careid on clinicians' laptops holds no
 CIS2 client credential: it relays careid's token, PAR and revocation requests
 with client authentication added, and receives CIS2's back-channel logout.
 .
 Put its configuration in /etc/careid-broker/broker.toml, then enable
 careid-broker.service.";

/// Creates the system user when systemd's tools are there (a container may run the broker
/// without them), and lets a running systemd see the unit; an enabled broker is restarted on
/// upgrade so it runs the new binary.
const POSTINST: &str = r#"#!/bin/sh
set -e
if [ "$1" = configure ]; then
    if command -v systemd-sysusers >/dev/null 2>&1; then
        systemd-sysusers careid-broker.conf
    fi
    if [ -d /run/systemd/system ]; then
        systemctl daemon-reload || true
        if [ -n "$2" ]; then
            systemctl try-restart careid-broker.service || true
        fi
    fi
fi
"#;

/// Stops the broker before its binary is removed.
const PRERM: &str = r#"#!/bin/sh
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
    systemctl stop careid-broker.service || true
fi
"#;

/// Lets a running systemd forget the removed unit.
const POSTRM: &str = r#"#!/bin/sh
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
    systemctl daemon-reload || true
fi
"#;

/// Builds the package from the release build in `release` into `out_dir`; returns its path.
pub fn build(release: &Path, out_dir: &Path) -> anyhow::Result<PathBuf> {
    let binary = release.join(PACKAGE);
    ensure!(binary.is_file(), "{} is not built", binary.display());
    let version = env!("CARGO_PKG_VERSION");
    let architecture = output(Command::new("dpkg").arg("--print-architecture"))?;
    let depends = depends(&binary)?;

    let stage = shell::target_dir().join("xtask/careid-broker-deb");
    if stage.exists() {
        std::fs::remove_dir_all(&stage)?;
    }
    let root = crate::root();
    place(&binary, &stage.join("usr/bin").join(PACKAGE), 0o755)?;
    place(
        &root.join(super::BROKER_UNIT),
        &stage.join(INSTALLED_UNIT),
        0o644,
    )?;
    place(
        &root.join(super::BROKER_SYSUSERS),
        &stage.join(INSTALLED_SYSUSERS),
        0o644,
    )?;
    let installed_kib = tree_size(&stage)?.div_ceil(1024);
    let debian = stage.join("DEBIAN");
    write(
        &debian.join("control"),
        &control(version, &architecture, &depends, installed_kib),
        0o644,
    )?;
    write(&debian.join("postinst"), POSTINST, 0o755)?;
    write(&debian.join("prerm"), PRERM, 0o755)?;
    write(&debian.join("postrm"), POSTRM, 0o755)?;

    std::fs::create_dir_all(out_dir)?;
    let deb = out_dir.join(format!("{PACKAGE}_{version}_{architecture}.deb"));
    shell::run_checked(
        Command::new("dpkg-deb")
            .args(["--build", "--root-owner-group"])
            .arg(&stage)
            .arg(&deb),
    )?;
    std::fs::remove_dir_all(&stage)?;
    Ok(deb)
}

/// The control file.
pub(super) fn control(
    version: &str,
    architecture: &str,
    depends: &str,
    installed_kib: u64,
) -> String {
    format!(
        "Package: {PACKAGE}\nVersion: {version}\nArchitecture: {architecture}\n\
         Maintainer: {MAINTAINER}\nInstalled-Size: {installed_kib}\nDepends: {depends}\n\
         Recommends: systemd\nSection: net\nPriority: optional\n\
         Homepage: https://github.com/careid/careid\nDescription: {DESCRIPTION}\n"
    )
}

/// The `Depends` field for `binary`: each library's package, libc6 with its minimum version.
fn depends(binary: &Path) -> anyhow::Result<String> {
    let libraries = output(Command::new("ldd").arg(binary))?;
    let mut packages = BTreeSet::new();
    for library in resolved_libraries(&libraries) {
        packages.insert(package_of(&library)?);
    }
    ensure!(
        packages.contains("libc6"),
        "{} loads no library of libc6: {libraries}",
        binary.display()
    );
    let glibc = newest_glibc(&std::fs::read(binary)?);
    Ok(packages
        .into_iter()
        .map(|package| match (&*package, &glibc) {
            ("libc6", Some(version)) => format!("libc6 (>= {version})"),
            _ => package,
        })
        .collect::<Vec<_>>()
        .join(", "))
}

/// The paths `ldd` resolved (`name => /path (address)`); the vDSO and the loader have none.
pub(super) fn resolved_libraries(ldd: &str) -> Vec<PathBuf> {
    ldd.lines()
        .filter_map(|line| line.split_once("=>"))
        .filter_map(|(_, target)| target.split_whitespace().next())
        .filter(|path| path.starts_with('/'))
        .map(PathBuf::from)
        .collect()
}

/// The Debian package that installed `library` (`dpkg -S`), tried also by its real path: dpkg
/// knows a file by the path its package gave, which `/lib` being a link can hide.
fn package_of(library: &Path) -> anyhow::Result<String> {
    let mut paths = vec![library.to_path_buf()];
    if let Ok(real) = library.canonicalize() {
        paths.push(real);
    }
    for path in &paths {
        let found = Command::new("dpkg-query")
            .arg("--search")
            .arg(path)
            .output()?;
        if found.status.success() {
            if let Some(package) = searched_package(&String::from_utf8_lossy(&found.stdout)) {
                return Ok(package);
            }
        }
    }
    anyhow::bail!(
        "no Debian package installed {}, which the broker loads",
        library.display()
    )
}

/// The package in `dpkg -S`'s answer (`libc6:amd64: /lib/...`), without its architecture.
pub(super) fn searched_package(answer: &str) -> Option<String> {
    let line = answer.lines().next()?;
    let (packages, _) = line.split_once(": ")?;
    let first = packages.split(',').next()?.trim();
    let name = first.split(':').next()?;
    (!name.is_empty()).then(|| name.to_owned())
}

/// The newest `GLIBC_x.y[.z]` symbol version named in the binary: the oldest glibc it runs on.
pub(super) fn newest_glibc(binary: &[u8]) -> Option<String> {
    const MARK: &[u8] = b"GLIBC_";
    let mut newest: Option<Vec<u32>> = None;
    let mut at = 0;
    while let Some(found) = binary[at..]
        .windows(MARK.len())
        .position(|window| window == MARK)
    {
        let start = at + found + MARK.len();
        let text: Vec<u8> = binary[start..]
            .iter()
            .copied()
            .take_while(|byte| byte.is_ascii_digit() || *byte == b'.')
            .collect();
        let parts: Option<Vec<u32>> = std::str::from_utf8(&text)
            .ok()
            .filter(|text| !text.is_empty())
            .map(|text| text.split('.').map(str::parse).collect::<Result<_, _>>())
            .and_then(Result::ok);
        if let Some(parts) = parts {
            if newest.as_ref().is_none_or(|newest| &parts > newest) {
                newest = Some(parts);
            }
        }
        at = start;
    }
    newest.map(|parts| {
        parts
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(".")
    })
}

/// Copies `from` to `to` (folders made) with `mode`.
fn place(from: &Path, to: &Path, mode: u32) -> anyhow::Result<()> {
    if let Some(folder) = to.parent() {
        std::fs::create_dir_all(folder)?;
    }
    std::fs::copy(from, to).with_context(|| format!("copying {}", from.display()))?;
    set_mode(to, mode)
}

fn write(path: &Path, text: &str, mode: u32) -> anyhow::Result<()> {
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder)?;
    }
    std::fs::write(path, text)?;
    set_mode(path, mode)
}

fn set_mode(path: &Path, mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    Ok(())
}

/// The bytes of the files below `dir`.
fn tree_size(dir: &Path) -> anyhow::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            tree_size(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}

/// A command's standard output, trimmed; failing when it fails.
fn output(command: &mut Command) -> anyhow::Result<String> {
    let output = command
        .output()
        .with_context(|| format!("could not start {command:?}"))?;
    ensure!(
        output.status.success(),
        "{command:?} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr).trim()
    );
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_libraries_ldd_resolved() {
        let ldd = "\tlinux-vdso.so.1 (0x00007ffd)\n\
            \tlibgcc_s.so.1 => /lib/x86_64-linux-gnu/libgcc_s.so.1 (0x00007f01)\n\
            \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f02)\n\
            \t/lib64/ld-linux-x86-64.so.2 (0x00007f03)\n";
        assert_eq!(
            resolved_libraries(ldd),
            [
                PathBuf::from("/lib/x86_64-linux-gnu/libgcc_s.so.1"),
                PathBuf::from("/lib/x86_64-linux-gnu/libc.so.6")
            ]
        );
    }

    #[test]
    fn reads_the_package_dpkg_named() {
        assert_eq!(
            searched_package("libc6:amd64: /lib/x86_64-linux-gnu/libc.so.6\n").as_deref(),
            Some("libc6")
        );
        assert_eq!(
            searched_package("libgcc-s1: /usr/lib/x86_64-linux-gnu/libgcc_s.so.1").as_deref(),
            Some("libgcc-s1")
        );
        assert_eq!(searched_package(""), None);
    }

    #[test]
    fn finds_the_newest_glibc_version_asked_for() {
        let binary = b"\0GLIBC_2.2.5\0GLIBC_2.34\0GLIBC_PRIVATE\0GLIBC_2.18\0GLIBC_2.3.4\0";
        assert_eq!(newest_glibc(binary).as_deref(), Some("2.34"));
        assert_eq!(newest_glibc(b"no versions"), None);
    }

    #[test]
    fn the_control_file_is_one_paragraph_dpkg_reads() {
        let text = control("0.1.0", "amd64", "libc6 (>= 2.34), libgcc-s1", 9000);
        let fields = super::super::installed::parse_control(&text);
        super::super::installed::check_broker_fields(&fields, "0.1.0").expect("good fields");
        assert!(
            text.lines()
                .skip_while(|line| !line.starts_with("Description:"))
                .skip(1)
                .all(|line| line.starts_with(' ')),
            "{text}"
        );
        assert!(!text.contains("\n\n"), "{text}");
    }
}
