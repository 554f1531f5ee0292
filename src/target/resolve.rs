//! The target of one input: what the user said, else what its template declares, else what the
//! package shows. Every guess is recorded as an [`Assumption`], which the renderers word.

use std::path::Path;

use serde::Serialize;

use super::infer::{self, Evidence};
use super::{Arch, Target};
use crate::error::Error;
use crate::package::Package;

/// What the user asked for; `None` fields are resolved from templates or the package.
#[derive(Debug, Clone, Default)]
pub struct Requested {
    pub runtime: Option<String>,
    pub arch: Option<Arch>,
    /// Read the target from a SAM `template.yaml` or `serverless.yml` beside the input.
    pub from_templates: bool,
}

/// One thing elfcheck assumed about the target, for the report to say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Assumption {
    /// Runtime and/or architecture taken from a function of a template beside the input.
    Template {
        file: String,
        function: String,
        runtime: Option<String>,
        arch: Option<Arch>,
        /// The template's functions differ and none matched the input by name or code location.
        ambiguous: bool,
    },
    /// An application's template does not say this property statically (a parameter without a
    /// default, a value known only at deploy time, a runtime elfcheck does not know).
    TemplateUnresolved { property: String, reason: String },
    /// Nothing said which architecture: Lambda's default.
    DefaultArch { arch: Arch },
    /// The runtime read from the package itself. Its language ABI then cannot be judged: the
    /// version came from the very files that would mismatch.
    InferredRuntime { runtime: String, evidence: Evidence },
    /// No runtime given or inferred: glibc and libraries judged against the oldest OS.
    OldestOs { os: String, glibc: String, hint: Option<Evidence> },
}

/// Resolves the target of `input` (read into `pkg`).
pub fn resolve(input: &Path, pkg: &Package, requested: &Requested) -> Result<(Target, Vec<Assumption>), Error> {
    let mut assumed = Vec::new();
    let mut runtime = requested.runtime.clone();
    let mut arch = requested.arch;
    if requested.from_templates
        && (runtime.is_none() || arch.is_none())
        && let Some(declared) = crate::template::discover(input)
    {
        let took_runtime = runtime.is_none().then(|| declared.function.runtime.clone()).flatten();
        let took_arch = arch.is_none().then_some(declared.function.arch).flatten();
        if took_runtime.is_some() || took_arch.is_some() {
            runtime = runtime.or(took_runtime.clone());
            arch = arch.or(took_arch);
            let file = declared.source.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
            assumed.push(Assumption::Template {
                file,
                function: declared.function.name,
                runtime: took_runtime,
                arch: took_arch,
                ambiguous: declared.ambiguous,
            });
        }
    }
    let arch = arch.unwrap_or_else(|| {
        assumed.push(Assumption::DefaultArch { arch: Arch::X86_64 });
        Arch::X86_64
    });
    if let Some(id) = &runtime {
        return Ok((Target::new(Some(id), arch)?, assumed));
    }
    match infer::guess_runtime(pkg) {
        Some(infer::Guess { runtime: Some(id), evidence }) => {
            let target = Target::new(Some(&id), arch)?;
            assumed.push(Assumption::InferredRuntime { runtime: id, evidence });
            Ok((target, assumed))
        }
        guess => {
            let target = Target::new(None, arch)?;
            let os = target.os();
            assumed.push(Assumption::OldestOs {
                os: os.name.clone(),
                glibc: os.glibc.to_string(),
                hint: guess.map(|g| g.evidence),
            });
            Ok((target, assumed))
        }
    }
}
