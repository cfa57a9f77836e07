//! The training page's run as a PEFT notebook and script (`notebook`), downloaded beside its adapter: the plan and
//! the classes of the job, the model's name, and the data file as it was loaded.

use super::Workbench;
use crate::data::builtin::is_builtin;
use crate::error::Error;
use crate::notebook::{self, Run, RunExport, model_and_gguf, peft_line};
use crate::train::folder::peft_counts;

impl Workbench {
    /// `run.ipynb`, `run.py` and the data file, by name.
    pub fn export_notebook(&self) -> Result<Vec<(String, Vec<u8>)>, Error> {
        let job = self.job()?;
        let (name, bytes) = self.data_file.as_ref().ok_or_else(|| Error::invalid("data", "load data first"))?;
        let info = job.info();
        let files = self.files()?;
        let (model, gguf_file) = model_and_gguf(&files.name, None);
        let figures = peft_counts(files, job.plan(), info.labels.len()).unwrap_or((info.trainable, info.total));
        let export = RunExport {
            run: Run::Classifier { plan: job.plan().clone(), labels: info.labels.clone() },
            model,
            gguf_file,
            data_file: name.clone(),
            builtin_data: is_builtin(name, bytes),
            page_figure: peft_line(figures.0, figures.1),
            origin: "A run of LoRA Playground's training page, as a Hugging Face PEFT script.".into(),
        };
        notebook::files(&export, bytes)
    }
}
