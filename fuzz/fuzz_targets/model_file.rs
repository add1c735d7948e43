//! The model-file parser on any text: an error or a model file whose
//! mixture is usable. A panic is a finding.

#![no_main]

use gmm_io::ModelFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(file) = ModelFile::parse(&text) {
        let model = file.to_model().expect("a parsed model file is usable");
        // What was read writes and reads back the same.
        let again = ModelFile::parse(&file.to_json()).expect("a written model file parses");
        assert_eq!(
            again.to_model().unwrap().n_components(),
            model.n_components()
        );
    }
});
