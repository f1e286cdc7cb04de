//! s390x: being written.  (Minimal stand-in so that the crate builds;
//! replace freely.)

use qapi_support::QmpError;
use qapi_types::{CpuDefinitionInfo, CpuModelExpansionInfo, CpuModelExpansionType, CpuModelInfo};

use crate::{CpuModels, Target};

/// The s390x CPU models (not yet written).
pub struct S390xModels;

impl S390xModels {
    /// Not available yet.
    pub fn builtin() -> Result<Self, String> {
        Err("s390x CPU models are not written yet".to_string())
    }
}

impl CpuModels for S390xModels {
    fn target(&self) -> Target {
        Target::S390x
    }

    fn definitions(&self) -> Result<Vec<CpuDefinitionInfo>, QmpError> {
        Err(QmpError::generic("s390x CPU models are not written yet"))
    }

    fn expand(
        &self,
        _ty: CpuModelExpansionType,
        _model: &CpuModelInfo,
    ) -> Result<CpuModelExpansionInfo, QmpError> {
        Err(QmpError::generic("s390x CPU models are not written yet"))
    }
}
