//! The gRPC face of {{name}}: maps messages to and from the use cases (app.rs) and their errors to
//! `Status`. No rule lives here.

use crate::{app::{{Pascal}}App, domain::{{Pascal}}Error};
use shop_proto::{{name}}::v1 as pb;
use tonic::{Request, Response, Status};

pub struct {{Pascal}}Grpc {
    app: {{Pascal}}App,
}

impl {{Pascal}}Grpc {
    pub fn new(app: {{Pascal}}App) -> Self {
        Self { app }
    }
}

impl From<{{Pascal}}Error> for Status {
    fn from(error: {{Pascal}}Error) -> Self {
        match error {
            {{Pascal}}Error::Invalid(_) => Status::invalid_argument(error.to_string()),
        }
    }
}

#[tonic::async_trait]
impl pb::{{name}}_service_server::{{Pascal}}Service for {{Pascal}}Grpc {
    #[tracing::instrument(skip_all)]
    async fn get_{{name}}_info(
        &self,
        request: Request<pb::Get{{Pascal}}InfoRequest>,
    ) -> Result<Response<pb::{{Pascal}}Info>, Status> {
        let info = self.app.info(&request.into_inner().caller)?;
        Ok(Response::new(pb::{{Pascal}}Info {
            service: info.service.to_owned(),
            greeting: info.greeting,
        }))
    }
}
