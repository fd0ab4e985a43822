"""The gallery's R torch examples (seeds 000-002), as the lessons write them.

Plain tuples (slug, title, source, inputs, teaches); examples.py makes them Examples.
"""
from __future__ import annotations

MY_RELU = """my_relu <- autograd_function(
  forward = function(ctx, input) {
    ctx$save_for_backward(input = input)
    input$clamp(min = 0)
  },
  backward = function(ctx, grad_output) {
    v <- ctx$saved_variables
    grad_input <- grad_output$clone()
    grad_input[v$input < 0] <- 0
    list(input = grad_input)
  }
)
"""

ROSENBROCK = """a <- 1
b <- 5

rosenbrock <- function(x) {
  x1 <- x[1]
  x2 <- x[2]
  (a - x1)^2 + b * (x2 - x1^2)^2
}
"""

R_EXAMPLES = [
    ("r-quadratic", "R: x1…x7 quadratic (lesson 12)",
     "library(torch)\n\nx1 <- torch_tensor(2, requires_grad = TRUE)\n"
     "x2 <- torch_tensor(2, requires_grad = TRUE)\n\nx3 <- x1$square()\nx5 <- x3 * 0.2\n\n"
     "x4 <- x2$square()\nx6 <- x4 * 0.2\n\nx7 <- x5 + x6 - 5\nx7", {},
     "The R lesson as it stands: torch_tensor(2) is a tensor of shape {1}, and x1$grad is 0.8."),
    ("r-rosenbrock-descent", "R: Rosenbrock descent loop",
     ROSENBROCK + "\nnum_iterations <- 1000\nlr <- 0.01\n"
     "x <- torch_tensor(c(-1, 1), requires_grad = TRUE)\n\nfor (i in 1:num_iterations) {\n"
     "  value <- rosenbrock(x)\n  if (i %% 100 == 0) {\n"
     "    cat(\"Value is: \", as.numeric(value), \"\\n\")\n  }\n  value$backward()\n"
     "  with_no_grad({\n    x$sub_(lr * x$grad)\n    x$grad$zero_()\n  })\n}\nvalue", {},
     "R's x[1] is the first entry; cat prints what R prints (0.3502924 at step 100), and "
     "the graph is the last step's."),
    ("r-tangent", "R: the tangent as a local linear approximation",
     "f <- function(x) x^3 - 2 * x\n\nx <- torch_tensor(2, requires_grad = TRUE)\n"
     "y <- f(x)\ny$backward()\ngrad <- x$grad\n\n"
     "x <- x$detach() # No need to track gradients anymore\n"
     "deltas <- torch_linspace(-4, 4, 100)\ny_true <- f(x + deltas)\n"
     "y_approx <- f(x) + grad * deltas\ncat(\"slope at 2:\", as.numeric(grad), \"\\n\")\ny", {},
     "f(x* + δ) ≈ f(x*) + f'(x*)·δ: autograd's gradient at x = 2 is the tangent's slope (10)."),
    ("r-relu", "R: your own ReLU with autograd_function",
     MY_RELU + "\nx <- torch_tensor(c(-2, 0.5, 3), requires_grad = TRUE)\nmy_relu(x)$sum()", {},
     "forward saves its input by name; backward reads ctx$saved_variables$input and returns "
     "a named list of gradients."),
    ("r-relu-network", "R: custom ReLU in a two-layer network",
     MY_RELU + "\nN <- 64\nD_in <- 1000\nH <- 100\nD_out <- 10\n"
     "x <- torch_randn(N, D_in)\ny <- torch_randn(N, D_out)\n"
     "w1 <- torch_randn(D_in, H, requires_grad = TRUE)\n"
     "w2 <- torch_randn(H, D_out, requires_grad = TRUE)\nlearning_rate <- 1e-6\n\n"
     "for (t in seq_len(60)) {\n  y_pred <- my_relu(x$mm(w1))$mm(w2)\n"
     "  loss <- (y_pred - y)$pow(2)$sum()\n"
     "  if (t %% 20 == 0 || t == 1) cat(\"Step:\", t, \":\", as.numeric(loss), \"\\n\")\n"
     "  loss$backward()\n  with_no_grad({\n    w1$sub_(learning_rate * w1$grad)\n"
     "    w2$sub_(learning_rate * w2$grad)\n    w1$grad$zero_()\n    w2$grad$zero_()\n  })\n}\n"
     "loss", {},
     "Seed 002 in R (60 steps here): my_relu is a node of PyTorch's graph, and the loss "
     "falls step after step."),
]
