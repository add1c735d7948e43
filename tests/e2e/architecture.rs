//! The rules of docs/ARCHITECTURE.md that the sources can be checked
//! against: no module of a crate imports another that imports it back
//! (directly or through others), no source file outside the SIMD
//! kernels grows past 500 lines, and (in optimized builds for x86-64) every
//! SIMD intrinsic is inlined into the kernel that uses it and the kernels'
//! vector registers spill to aligned slots.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::common::root;

const CRATES: &[&str] = &["gmm-core", "gmm-io", "gmm-cli", "gmm-py"];

/// Files allowed past the line limit: the hand-vectorized kernels, whose
/// length is one instruction sequence per shape.
const LONG_FILES_ALLOWED: &[&str] = &["simd.rs", "kernel.rs"];
const MAX_LINES: usize = 500;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()) {
        if e.is_dir() {
            rust_files(&e, out);
        } else if e.extension().is_some_and(|x| x == "rs") {
            out.push(e);
        }
    }
}

/// The module path of a source file: `a.rs` and `a/mod.rs` are `a`,
/// `a/b.rs` is `a::b`; `lib.rs` and `main.rs` are the crate root, ``.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts.join("::")
}

/// The paths a file names through `crate::` and `super::`, resolved to
/// module paths (`crate::a::{b, c::D}` gives `a::b` and `a::c::D`). A
/// file's unit tests (from `#[cfg(test)]` on) do not count: they may use
/// any module.
fn referenced_paths(text: &str, module: &str) -> Vec<String> {
    let text = text.split("#[cfg(test)]").next().unwrap_or(text);
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    // The module `super` names: the parent of the file's module.
    let mut parent: Vec<&str> = module.split("::").filter(|s| !s.is_empty()).collect();
    parent.pop();
    let mut out = Vec::new();
    for (prefix, base) in [("crate::", String::new()), ("super::", parent.join("::"))] {
        let mut rest = code.as_str();
        while let Some(at) = rest.find(prefix) {
            let before = rest[..at].chars().last();
            rest = &rest[at + prefix.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            for path in expand(rest) {
                let full = if base.is_empty() {
                    path
                } else {
                    format!("{base}::{path}")
                };
                out.push(full);
            }
        }
    }
    out
}

/// The paths at the start of `text`: `a::b::C` or a group `{a, b::{c, d}}`.
fn expand(text: &str) -> Vec<String> {
    let ident: String = text
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
        .collect();
    let ident = ident.trim_end_matches(':').to_string();
    let after = &text[ident.len()..].trim_start_matches(':');
    if after.starts_with('{') {
        // The group's items, split at its top-level commas.
        let mut depth = 0;
        let mut items = Vec::new();
        let mut start = 1;
        for (i, c) in after.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        items.push(&after[start..i]);
                        break;
                    }
                }
                ',' if depth == 1 => {
                    items.push(&after[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        return items
            .into_iter()
            .flat_map(|item| expand(item.trim()))
            .map(|p| {
                if ident.is_empty() {
                    p
                } else {
                    format!("{ident}::{p}")
                }
            })
            .collect();
    }
    vec![ident]
}

/// The longest module of `modules` that `path` starts with.
fn resolve<'a>(path: &str, modules: &'a BTreeSet<String>) -> Option<&'a String> {
    modules
        .iter()
        .filter(|m| !m.is_empty() && (path == m.as_str() || path.starts_with(&format!("{m}::"))))
        .max_by_key(|m| m.len())
}

/// Whether one module lies inside the other (a parent declares its
/// children; a child may use its parent's items).
fn nested(a: &str, b: &str) -> bool {
    a.is_empty()
        || b.is_empty()
        || a.starts_with(&format!("{b}::"))
        || b.starts_with(&format!("{a}::"))
}

/// Every import edge of a crate, module -> modules it names.
fn import_graph(krate: &str) -> BTreeMap<String, BTreeSet<String>> {
    let src = root().join("crates").join(krate).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(&src, f)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        let module = module_of(&src, f);
        let text = std::fs::read_to_string(f).unwrap();
        let edges = graph.entry(module.clone()).or_default();
        for path in referenced_paths(&text, &module) {
            if let Some(target) = resolve(&path, &modules)
                && !nested(&module, target)
            {
                edges.insert(target.clone());
            }
        }
    }
    graph
}

/// The strongly connected components of more than one module (Tarjan).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.graph.get(v).into_iter().flatten() {
            if !s.index.contains_key(w.as_str()) {
                visit(s, w);
                let lw = s.low[w.as_str()];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.on_stack.contains(w.as_str()) {
                let iw = s.index[w.as_str()];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.found.push(component);
            }
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.found
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let mut found = Vec::new();
    for krate in CRATES {
        for cycle in cycles(&import_graph(krate)) {
            found.push(format!("{krate}: {}", cycle.join(" <-> ")));
        }
    }
    assert!(found.is_empty(), "import cycles:\n{}", found.join("\n"));
}

#[test]
fn the_cycle_check_finds_cycles() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec!["a"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
    .collect();
    assert_eq!(cycles(&graph), vec![vec!["a", "b", "c"]]);
    let paths = referenced_paths(
        "use crate::{fit::{Fit, exchange}, model};\nlet x = super::pass::run();",
        "estep",
    );
    assert_eq!(paths, ["fit::Fit", "fit::exchange", "model", "pass::run"]);
}

#[test]
fn source_files_stay_short() {
    let mut long = Vec::new();
    for krate in CRATES {
        let mut files = Vec::new();
        rust_files(&root().join("crates").join(krate).join("src"), &mut files);
        for f in files {
            let path = f.to_string_lossy().into_owned();
            let lines = std::fs::read_to_string(&f).unwrap().lines().count();
            let allowed = LONG_FILES_ALLOWED.iter().any(|a| path.ends_with(a));
            if lines > MAX_LINES && !allowed {
                long.push(format!("{} ({lines} lines)", f.display()));
            }
        }
    }
    assert!(
        long.is_empty(),
        "files past {MAX_LINES} lines:\n{}",
        long.join("\n")
    );
}

/// An intrinsic compiled as a function of its own means a kernel calls it
/// (its vectors through memory) instead of issuing one instruction: this
/// happens where code that uses lanes sits in a closure, which is compiled
/// without the kernel's target features. A closure in `log_prob`'s column
/// tiles did that once and made `log_prob` about six times slower on
/// AVX-512. The check takes the double-precision intrinsics (names with
/// `pd`), which gmm's kernels and faer's matrix routines use, and leaves
/// alone the integer ones that dependencies scanning bytes with SIMD may
/// keep out of line (as does the run-time detection's `xgetbv`). Only
/// optimized builds inline, hence the `ignore` elsewhere.
#[cfg(target_arch = "x86_64")]
#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "intrinsics are inlined only in optimized builds"
)]
fn simd_intrinsics_are_inlined_into_the_kernels() {
    let binary = env!("CARGO_BIN_EXE_gmm");
    let symbols = binutils("nm", &["--defined-only", "--demangle", binary]);
    let standalone: Vec<String> = symbols
        .lines()
        .filter_map(|l| out_of_line_float_intrinsic(l).map(String::from))
        .collect();
    assert!(
        standalone.is_empty(),
        "SIMD intrinsics compiled out of line in {binary} (a closure in a kernel, or a \
         dependency's; `objdump -d --demangle` shows their callers):\n{}",
        standalone.join("\n")
    );
}

/// The intrinsic a line of `nm --demangle` defines, when it is a
/// double-precision one (`_mm*` with `pd` in its name) of `core::arch`:
/// the hash suffix of legacy mangling (`::h` and 16 hex digits) and the
/// const arguments of v0 mangling (`::<8>`) dropped.
#[cfg(target_arch = "x86_64")]
fn out_of_line_float_intrinsic(line: &str) -> Option<&str> {
    let (_, path) = line.split_once(" core::core_arch::x86")?;
    let path = path
        .strip_prefix("_64")
        .unwrap_or(path)
        .strip_prefix("::")?;
    let path = without_hash(path.split("::<").next().unwrap_or(path));
    let name = path.rsplit("::").next()?;
    (name.starts_with("_mm") && name.contains("pd")).then_some(path)
}

/// A demangled name without the hash suffix of legacy mangling (`::h` and
/// 16 hex digits).
#[cfg(target_arch = "x86_64")]
fn without_hash(name: &str) -> &str {
    match name.rsplit_once("::h") {
        Some((p, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => p,
        _ => name,
    }
}

/// The output of a binutils tool (`nm`, `objdump`), which must succeed.
#[cfg(target_arch = "x86_64")]
fn binutils(cmd: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running `{cmd}` (binutils; on Debian it comes with gcc): {e}"));
    assert!(
        out.status.success(),
        "`{cmd} {}` failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[cfg(target_arch = "x86_64")]
#[test]
fn the_intrinsics_check_reads_every_demangling() {
    let found = |l| out_of_line_float_intrinsic(l);
    assert_eq!(
        found("0000000001d6c5f0 t core::core_arch::x86::avx512f::_mm512_fmadd_pd"),
        Some("avx512f::_mm512_fmadd_pd")
    );
    assert_eq!(
        found("0000 t core::core_arch::x86::fma::_mm256_fmadd_pd::h0123456789abcdef"),
        Some("fma::_mm256_fmadd_pd")
    );
    assert_eq!(
        found("0000 t core::core_arch::x86::avx512f::_mm512_roundscale_pd::<8>"),
        Some("avx512f::_mm512_roundscale_pd")
    );
    assert_eq!(
        found("0000 t core::core_arch::x86_64::avx512f::_mm512_cmp_pd_mask"),
        Some("avx512f::_mm512_cmp_pd_mask")
    );
    assert_eq!(found("0000 t core::core_arch::x86::xsave::_xgetbv"), None);
    assert_eq!(
        found("0000 t core::core_arch::x86::avx::_mm256_loadu_si256"),
        None
    );
    assert_eq!(
        found("0000 t <core::core_arch::x86::__m256i as core::fmt::Debug>::fmt"),
        None
    );
}

/// The kernels' vector registers spill to slots aligned as the registers
/// are wide: each level's function aligns its frame (`aligned_frame` in
/// `kernel.rs`), without which spill slots got the stack's 16 bytes and
/// fell wherever the caller's stack left them, a 64-byte spill mostly
/// across two cache lines (16 to 36 % more per iteration where
/// `accumulate` keeps the moments in registers). Disassembles the ten
/// level functions of the `gmm` binary's kernels and fails on an
/// unaligned move between a vector register and the stack (addressed from
/// `%rsp`, or `%rbp` where frame pointers are forced). Optimized builds
/// only, as above.
#[cfg(target_arch = "x86_64")]
#[test]
#[cfg_attr(debug_assertions, ignore = "only optimized builds spill as measured")]
fn kernel_spills_land_on_aligned_slots() {
    let binary = env!("CARGO_BIN_EXE_gmm");
    let symbols = binutils(
        "nm",
        &["--defined-only", "--demangle", "--print-size", binary],
    );
    let mut kernels: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for line in symbols.lines() {
        let mut f = line.splitn(4, ' ');
        let (Some(start), Some(size), Some(_), Some(name)) =
            (f.next(), f.next(), f.next(), f.next())
        else {
            continue;
        };
        let name = without_hash(name);
        if KERNEL_LEVELS.contains(&name) {
            let hex = |s: &str| u64::from_str_radix(s, 16).expect("nm prints hex");
            kernels.insert(name.to_string(), (hex(start), hex(size)));
        }
    }
    let missing: Vec<&str> = KERNEL_LEVELS
        .iter()
        .copied()
        .filter(|k| !kernels.contains_key(*k))
        .collect();
    assert!(
        missing.is_empty(),
        "kernel level functions not found in {binary}: {missing:?}"
    );
    let (mut unaligned, mut aligned) = (Vec::new(), 0);
    for (name, (start, size)) in &kernels {
        let text = binutils(
            "objdump",
            &[
                "-d",
                "--no-show-raw-insn",
                &format!("--start-address={start:#x}"),
                &format!("--stop-address={:#x}", start + size),
                binary,
            ],
        );
        for line in text.lines() {
            match stack_vector_move(line) {
                Some(StackMove::Unaligned) => unaligned.push(format!("{name}: {}", line.trim())),
                Some(StackMove::Aligned) => aligned += 1,
                None => {}
            }
        }
    }
    assert!(
        aligned > 0,
        "no vector move to or from the stack read in the kernels of {binary}: \
         does `objdump` print AT&T syntax?"
    );
    assert!(
        unaligned.is_empty(),
        "vector registers moved to or from unaligned stack slots (a kernel's level function \
         without `aligned_frame`, or a local to hold in an `AlignedArray`):\n{}",
        unaligned.join("\n")
    );
}

/// The per-level functions of the dispatched kernels, as `nm` demangles
/// them.
#[cfg(target_arch = "x86_64")]
const KERNEL_LEVELS: [&str; 10] = [
    "gmm_core::kernel::accumulate::avx2",
    "gmm_core::kernel::accumulate::avx512",
    "gmm_core::kernel::classification::avx2",
    "gmm_core::kernel::classification::avx512",
    "gmm_core::kernel::log_prob::avx2",
    "gmm_core::kernel::log_prob::avx512",
    "gmm_core::kernel::normalize::avx2",
    "gmm_core::kernel::normalize::avx512",
    "gmm_core::kernel::objective::avx2",
    "gmm_core::kernel::objective::avx512",
];

#[cfg(target_arch = "x86_64")]
#[derive(Debug, PartialEq)]
enum StackMove {
    Aligned,
    Unaligned,
}

/// What a line of `objdump -d` (AT&T syntax, GNU's or LLVM's spacing) is
/// when it moves a 256- or 512-bit register to or from a slot addressed
/// from `%rsp` or `%rbp`.
#[cfg(target_arch = "x86_64")]
fn stack_vector_move(line: &str) -> Option<StackMove> {
    let (_, insn) = line.split_once(':')?;
    let mut words = insn.split_whitespace();
    let mnemonic = words.next()?;
    let operands: String = words.collect();
    let vector = operands.contains("%zmm") || operands.contains("%ymm");
    let stack = operands.contains("(%rsp)") || operands.contains("(%rbp)");
    if !(vector && stack) {
        return None;
    }
    match mnemonic {
        "vmovups" | "vmovupd" | "vmovdqu" | "vmovdqu32" | "vmovdqu64" => Some(StackMove::Unaligned),
        "vmovaps" | "vmovapd" | "vmovdqa" | "vmovdqa32" | "vmovdqa64" => Some(StackMove::Aligned),
        _ => None,
    }
}

#[cfg(target_arch = "x86_64")]
#[test]
fn the_spill_check_reads_objdump_lines() {
    use StackMove::*;
    let read = |l| stack_vector_move(l);
    assert_eq!(
        read(" 1e89ddb:\tvmovups %zmm13,0x470(%rsp)"),
        Some(Unaligned)
    );
    assert_eq!(
        read(" 1e89d95:\tvmovupd 0x470(%rsp),%zmm10"),
        Some(Unaligned)
    );
    assert_eq!(
        read(" 1e8a2e9:\tvmovupd %ymm8,-0x70(%rbp)"),
        Some(Unaligned)
    );
    assert_eq!(
        read("  1e89ddb:\tvmovups\t%zmm13, 0x470(%rsp)"),
        Some(Unaligned)
    );
    assert_eq!(read(" 1ea88d7:\tvmovapd %zmm0,0x7c0(%rsp)"), Some(Aligned));
    assert_eq!(read(" 1e80819:\tvmovups 0xa80(%r13,%rdx,8),%zmm2"), None);
    assert_eq!(read(" 1e8a515:\tvmovups %xmm0,0x10(%rsp)"), None);
    assert_eq!(read(" 1e6f000:\tmov    %rsi,0x38(%rsp)"), None);
    assert_eq!(read(" 1e6f008:\tvaddpd 0x40(%rsp),%zmm1,%zmm2"), None);
}
