console.log("embedded app");
