//! Building a cache file: the tables decoded batch by batch and appended,
//! weights, labels and initial noise flags through side files, the header
//! written last.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use gmm_core::{Precision, UNLABELED};

use super::header::{
    FLAG_F32, FLAG_LABELS, FLAG_NOISE_INIT, FLAG_WEIGHTS, HEADER_LEN, Header, checksum,
};
use super::{CacheMeta, CachePlan};
use crate::column_types::type_name;
use crate::error::{IoError, Result};
use crate::labels::{Classes, label_values_at};
use crate::table::DEFAULT_BATCH_ROWS;

impl CachePlan<'_> {
    pub(super) fn write_file(
        &self,
        tmp: &TempFiles,
        on_rows: &mut dyn FnMut(usize) -> bool,
    ) -> Result<CacheMeta> {
        let main_path = &tmp.main;
        let werr = |e: std::io::Error| IoError::write(&self.path, e);
        let has_weights = self.parts.iter().any(|p| p.projection.carries_weights());
        let has_labels = self.parts.iter().any(|p| p.projection.label.is_some());
        let has_noise = self.parts.iter().any(|p| p.projection.noise_init.is_some());
        let first = self.parts[0];
        let d = first.projection.n_features();
        let precision = first.projection.precision;
        let mut narrow: Vec<f32> = Vec::new();
        for p in &self.parts[1..] {
            if p.projection.feature_names != first.projection.feature_names {
                return Err(IoError::read(
                    p.source.path(),
                    "the table's feature columns differ from the input's",
                ));
            }
        }

        let mut main = File::create(main_path).map_err(werr)?;
        main.write_all(&[0u8; HEADER_LEN]).map_err(werr)?;
        let mut weights = has_weights
            .then(|| File::create(&tmp.weights).map(|f| BufWriter::with_capacity(1 << 20, f)))
            .transpose()
            .map_err(werr)?;
        let mut labels = has_labels
            .then(|| File::create(&tmp.labels).map(|f| BufWriter::with_capacity(1 << 20, f)))
            .transpose()
            .map_err(werr)?;
        let mut noise = has_noise
            .then(|| File::create(&tmp.noise).map(|f| BufWriter::with_capacity(1 << 20, f)))
            .transpose()
            .map_err(werr)?;
        let mut flag_buf: Vec<u8> = Vec::new();
        // Labels get provisional codes in order of first sight; they are
        // renumbered in class order when appended.
        let mut codes: HashMap<String, u32> = HashMap::new();
        let mut part_rows = Vec::new();
        let mut part_labeled = Vec::new();
        let mut total = 0usize;
        let mut dropped_rows = 0usize;
        let mut label_buf: Vec<u32> = Vec::new();

        for p in &self.parts {
            let src = p.source;
            let label_name = p
                .projection
                .label
                .map(|i| src.schema.field(i).name().clone());
            let mut rows = 0usize;
            let mut labeled = 0usize;
            for batch in src.batches(p.projection, DEFAULT_BATCH_ROWS)? {
                let b = batch?;
                match precision {
                    Precision::F64 => main.write_all(f64_bytes(&b.x)).map_err(werr)?,
                    Precision::F32 => {
                        narrow.clear();
                        narrow.extend(b.x.iter().map(|&v| v as f32));
                        main.write_all(f32_bytes(&narrow)).map_err(werr)?;
                    }
                }
                // Rows left out for a missing value (weight -0.0).
                let dropped = |i: usize| {
                    b.weights
                        .as_ref()
                        .is_some_and(|w| crate::Missing::is_dropped(w[i]))
                };
                dropped_rows += (0..b.n_rows).filter(|&i| dropped(i)).count();
                if let Some(w) = weights.as_mut() {
                    match &b.weights {
                        Some(bw) => w.write_all(f64_bytes(bw)).map_err(werr)?,
                        None => {
                            for _ in 0..b.n_rows {
                                w.write_all(&1.0f64.to_ne_bytes()).map_err(werr)?;
                            }
                        }
                    }
                }
                if let Some(l) = labels.as_mut() {
                    label_buf.clear();
                    match (&b.labels, &label_name) {
                        (Some(a), Some(column)) => {
                            let values =
                                label_values_at(column, a, b.first_row).map_err(|detail| {
                                    IoError::BadLabel {
                                        path: src.path().to_path_buf(),
                                        column: column.clone(),
                                        detail,
                                    }
                                })?;
                            for (i, v) in values.into_iter().enumerate() {
                                label_buf.push(match v {
                                    None => UNLABELED,
                                    Some(_) if dropped(i) => UNLABELED,
                                    Some(s) => {
                                        labeled += 1;
                                        let next = codes.len() as u32;
                                        *codes.entry(s).or_insert(next)
                                    }
                                });
                            }
                        }
                        _ => label_buf.resize(b.n_rows, UNLABELED),
                    }
                    l.write_all(u32_bytes(&label_buf)).map_err(werr)?;
                }
                if let Some(f) = noise.as_mut() {
                    flag_buf.clear();
                    match &b.noise_init {
                        Some(flags) => flag_buf.extend(flags.iter().map(|&v| u8::from(v))),
                        // A table without the column (the labeled one).
                        None => flag_buf.resize(b.n_rows, 0),
                    }
                    f.write_all(&flag_buf).map_err(werr)?;
                }
                rows += b.n_rows;
                total += b.n_rows;
                if !on_rows(total) {
                    return Err(IoError::write(
                        &self.path,
                        "stopped before the cache was complete",
                    ));
                }
            }
            if rows == 0 {
                return Err(IoError::EmptyTable {
                    path: src.path().to_path_buf(),
                });
            }
            part_rows.push(rows);
            part_labeled.push(labeled);
        }

        // Weights and labels after the values, each 8-aligned.
        let x_end = (HEADER_LEN as u64) + (total as u64) * (d as u64) * precision.bytes() as u64;
        let mut end = x_end;
        let pad_to_8 = |main: &mut File, end: &mut u64| -> Result<u64> {
            let pad = (8 - *end % 8) % 8;
            main.write_all(&[0u8; 8][..pad as usize]).map_err(werr)?;
            *end += pad;
            Ok(*end)
        };
        // A side file copied in whole after the values: its offset (0 for none).
        let append = |side: Option<BufWriter<File>>,
                      path: &Path,
                      main: &mut File,
                      end: &mut u64|
         -> Result<u64> {
            let Some(side) = side else { return Ok(0) };
            drop(side.into_inner().map_err(|e| werr(e.into_error()))?);
            let offset = pad_to_8(main, end)?;
            let mut f = File::open(path).map_err(werr)?;
            *end += std::io::copy(&mut f, main).map_err(werr)?;
            Ok(offset)
        };
        let weights_offset = append(weights.take(), &tmp.weights, &mut main, &mut end)?;
        let classes = has_labels.then(|| {
            let names: Vec<String> = codes.keys().cloned().collect();
            Classes::from_names(names)
        });
        let mut labels_offset = 0;
        if let (Some(l), Some(classes)) = (labels.take(), &classes) {
            drop(l.into_inner().map_err(|e| werr(e.into_error()))?);
            labels_offset = pad_to_8(&mut main, &mut end)?;
            // Provisional code -> position of its class in sorted order.
            let mut renumber = vec![0u32; codes.len()];
            for (name, &code) in &codes {
                renumber[code as usize] = classes
                    .names()
                    .iter()
                    .position(|n| n == name)
                    .expect("a class of its own") as u32;
            }
            let mut f = BufReader::with_capacity(1 << 20, File::open(&tmp.labels).map_err(werr)?);
            let mut out = BufWriter::with_capacity(1 << 20, &mut main);
            let mut buf = [0u8; 4];
            for _ in 0..total {
                f.read_exact(&mut buf).map_err(werr)?;
                let code = u32::from_ne_bytes(buf);
                let code = if code == UNLABELED {
                    code
                } else {
                    renumber[code as usize]
                };
                out.write_all(&code.to_ne_bytes()).map_err(werr)?;
            }
            out.flush().map_err(werr)?;
            end += 4 * total as u64;
        }
        let noise_init_offset = append(noise.take(), &tmp.noise, &mut main, &mut end)?;
        let meta = CacheMeta {
            fingerprint: self.fingerprint.clone(),
            columns: first.projection.feature_names.clone(),
            column_types: first
                .projection
                .features
                .iter()
                .map(|&i| type_name(first.source.schema.field(i).data_type()))
                .collect(),
            part_rows,
            part_labeled,
            classes: classes.map(|c| c.names().to_vec()),
            created: crate::utc_now_rfc3339(),
            dropped_rows,
        };
        let meta_text = serde_json::to_vec(&meta).expect("JSON");
        let meta_offset = pad_to_8(&mut main, &mut end)?;
        main.write_all(&meta_text).map_err(werr)?;
        end += meta_text.len() as u64;
        let header = Header {
            n_rows: total as u64,
            n_features: d as u64,
            flags: if has_weights { FLAG_WEIGHTS } else { 0 }
                | if has_labels { FLAG_LABELS } else { 0 }
                | if has_noise { FLAG_NOISE_INIT } else { 0 }
                | if precision == Precision::F32 {
                    FLAG_F32
                } else {
                    0
                },
            x_offset: HEADER_LEN as u64,
            weights_offset,
            labels_offset,
            meta_offset,
            meta_len: meta_text.len() as u64,
            file_len: end,
            checksum: 0,
            noise_init_offset,
        };
        // The checksum of all that follows the header, read back from the
        // file as written.
        main.flush().map_err(werr)?;
        let written = File::open(main_path).map_err(werr)?;
        // SAFETY: the temporary file is this build's own, not renamed yet:
        // nothing else writes it while it is mapped.
        let map = unsafe { memmap2::Mmap::map(&written) }.map_err(werr)?;
        let header = Header {
            checksum: checksum(&map[HEADER_LEN..]),
            ..header
        };
        drop(map);
        main.seek(SeekFrom::Start(0)).map_err(werr)?;
        main.write_all(&header.to_bytes()).map_err(werr)?;
        // On disk before it gets its name: a crash never leaves a named
        // cache whose data did not reach the disk.
        main.sync_all().map_err(werr)?;
        Ok(meta)
    }
}

/// The temporary files of a build, removed when dropped (after the main
/// one has been renamed into place, or after a failure).
pub(super) struct TempFiles {
    pub(super) main: PathBuf,
    weights: PathBuf,
    labels: PathBuf,
    noise: PathBuf,
}

impl TempFiles {
    pub(super) fn new(dest: &Path) -> Self {
        let dir = dest.parent().unwrap_or(Path::new("."));
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let nanos = std::time::SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let base = format!(".{name}.tmp-{}-{nanos}", std::process::id());
        TempFiles {
            main: dir.join(&base),
            weights: dir.join(format!("{base}.weights")),
            labels: dir.join(format!("{base}.labels")),
            noise: dir.join(format!("{base}.noise")),
        }
    }
}

impl Drop for TempFiles {
    fn drop(&mut self) {
        for p in [&self.main, &self.weights, &self.labels, &self.noise] {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn f64_bytes(v: &[f64]) -> &[u8] {
    // SAFETY: any initialized f64 is 8 initialized bytes; u8 needs no alignment.
    unsafe { std::slice::from_raw_parts(v.as_ptr().cast::<u8>(), std::mem::size_of_val(v)) }
}

fn f32_bytes(v: &[f32]) -> &[u8] {
    // SAFETY: as for `f64_bytes`.
    unsafe { std::slice::from_raw_parts(v.as_ptr().cast::<u8>(), std::mem::size_of_val(v)) }
}

fn u32_bytes(v: &[u32]) -> &[u8] {
    // SAFETY: as for `f64_bytes`.
    unsafe { std::slice::from_raw_parts(v.as_ptr().cast::<u8>(), std::mem::size_of_val(v)) }
}
