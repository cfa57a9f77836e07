//! A worker that computes gradients for the run another worker owns (`shares`): the same model built from the
//! same files and plan, its trainable tensors set to the run's current values before each share. It keeps no
//! optimizer and no position: a lost replica costs nothing but its share, which its owner can compute itself.

use burn::tensor::Device;

use super::plan::Plan;
use super::prepare::build_model;
use super::readback::read_scalar;
use super::shares::{HostTensors, Share, ShareGradients, check, read_gradients, set_weights, share_gradients};
use crate::error::Error;
use crate::model::auto::AutoModelForSequenceClassification;
use crate::model::config::EncoderConfig;
use crate::model::files::ModelFiles;

pub struct Replica {
    config: EncoderConfig,
    /// `None` only while a share sets its weights (burn's mappers take the model by value).
    model: Option<AutoModelForSequenceClassification>,
    /// The autodiff device the replica computes on.
    device: Device,
}

impl Replica {
    /// The model of a run of `plan` over `files` with `num_labels` labels, on `device` (a plain device).
    pub fn new(files: &ModelFiles, plan: &Plan, num_labels: usize, device: &Device) -> Result<Self, Error> {
        plan.validate()?;
        let device = device.clone().autodiff();
        let config = files.encoder_config()?;
        let model = build_model(&config, files, None, num_labels, plan, &device)?;
        Ok(Self { config, model: Some(model), device })
    }

    /// `share`'s loss and gradients with the trainable tensors at `weights`.
    pub async fn gradients(&mut self, weights: &HostTensors, share: &Share) -> Result<ShareGradients, Error> {
        let model = self.model.take().expect("the model is only taken while its weights are set");
        if let Err(e) = check(&model, weights, "weights") {
            self.model = Some(model);
            return Err(e);
        }
        let model = self.model.insert(set_weights(model, weights));
        // Dropout outside example masks draws from the backend's generator: seeded as the owner's share is.
        self.device.seed(share.seed);
        let (grads, loss) = share_gradients(model, &self.config, share, &self.device);
        Ok(ShareGradients { loss: read_scalar(loss).await?, gradients: read_gradients(model, &grads).await? })
    }
}
