# skeydan/Deep-Learning-and-Scientific-Computing-with-R-torch modules.qmd (DLSC, Keydana, ch. "Modules"); changed: torch_manual_seed(1) added, the chunks pasted one after another; the last three lines added so the custom module's gradient is the page's output
library(torch)
torch_manual_seed(1)
l <- nn_linear(in_features = 5, out_features = 16)
l
l$weight
l$bias
x <- torch_randn(50, 5)
output <- l(x)
output$size()
output$grad_fn
loss <- output$mean()
loss$backward()
l$weight$grad
mlp <- nn_sequential(
  nn_linear(10, 32),
  nn_relu(),
  nn_linear(32, 64),
  nn_relu(),
  nn_linear(64, 1)
)
mlp(torch_randn(5, 10))
my_linear <- nn_module(
  initialize = function(in_features, out_features) {
    self$w <- nn_parameter(torch_randn(
      in_features, out_features
    ))
    self$b <- nn_parameter(torch_zeros(out_features))
  },
  forward = function(input) {
    input$mm(self$w) + self$b
  }
)
l <- my_linear(7, 1)
l
loss <- l(torch_randn(3, 7))$sum()
loss$backward()
l$w$grad
