# skeydan/Deep-Learning-and-Scientific-Computing-with-R-torch optim_1.qmd (DLSC, Keydana, ch. "Function minimization with autograd"); changed: torch_manual_seed(1) added, the final version of the chapter's loop with its set-up (the "not the correct procedure yet" sketch left out), nothing else
library(torch)
torch_manual_seed(1)

a <- 1
b <- 5

rosenbrock <- function(x) {
  x1 <- x[1]
  x2 <- x[2]
  (a - x1)^2 + b * (x2 - x1^2)^2
}

num_iterations <- 1000

lr <- 0.01

x <- torch_tensor(c(-1, 1), requires_grad = TRUE)

for (i in 1:num_iterations) {
  if (i %% 100 == 0) cat("Iteration: ", i, "\n")

  value <- rosenbrock(x)
  if (i %% 100 == 0) {
    cat("Value is: ", as.numeric(value), "\n")
  }

  value$backward()
  if (i %% 100 == 0) {
    cat("Gradient is: ", as.matrix(x$grad), "\n")
  }

  with_no_grad({
    x$sub_(lr * x$grad)
    x$grad$zero_()
  })
}
x
