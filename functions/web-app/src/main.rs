use lambda_http::{Error, Request, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    run(service_fn(|req: Request| async move {
        Ok::<_, Error>(web_app::handle(&req))
    }))
    .await
}
