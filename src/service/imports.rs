//! Link import: what a shop's page says about a gift (see `import`).

use super::{Actor, Service};
use crate::model::{error::AppError, preview::LinkPreview};

impl Service {
    /// What the shop page at `link` says, as suggestions for a gift, with
    /// its picture copied and stored for the caller (`preview.picture`).
    /// Members only: a guest's share link never makes the server fetch
    /// anything.
    pub async fn preview_link(&self, actor: &Actor, link: &str) -> Result<LinkPreview, AppError> {
        actor.member_only()?;
        let read = self.importer.read(&actor.user_id, link).await?;
        let mut preview = read.preview;
        if let Some(picture) = read.picture {
            preview.picture = Some(self.keep_picture(&actor.user_id, &picture).await?);
        }
        Ok(preview)
    }
}
