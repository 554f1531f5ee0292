//! Which resource of an application a report section or a finding belongs to. Empty for a
//! package checked on its own, so single-package reports stay as they are.
//!
//! A function's section is keyed by its logical id. A layer is judged once per target of the
//! functions that attach it, so its sections are keyed by its logical id and those functions.

use serde::Serialize;

#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema)]
pub struct ResourceRef {
    /// The function's logical id in its template.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// The layer's logical id in its template.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    /// For a layer: the functions whose target it was judged for (empty when no function of the
    /// application attaches it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub for_functions: Vec<String>,
}

impl ResourceRef {
    pub fn function(id: &str) -> ResourceRef {
        ResourceRef { function: Some(id.to_string()), ..ResourceRef::default() }
    }

    pub fn layer(id: &str, for_functions: Vec<String>) -> ResourceRef {
        ResourceRef { layer: Some(id.to_string()), for_functions, ..ResourceRef::default() }
    }

    pub fn is_empty(&self) -> bool {
        self.function.is_none() && self.layer.is_none()
    }

    /// The logical id, for whichever kind it is.
    pub fn id(&self) -> Option<&str> {
        self.function.as_deref().or(self.layer.as_deref())
    }
}
